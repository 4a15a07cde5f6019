"""Salt 3008's finalizers log a WARNING for every RunnerClient, MasterEvent, MasterMinion or
SyncWrapper that Salt's own code (the orchestrate runner, saltutil.runner, the salt.runner
state) leaves to the garbage collector. pgha cannot close those objects: they are created and
dropped inside Salt. At interpreter exit the same message is logged without its level prefix
(logging's last-resort handler). The lab's command line drops exactly these lines and nothing
else; any other warning or error passes through unchanged."""
import re
import threading

RESOURCE_WARNING = re.compile(
    r"^(\[WARNING\s*\] )?unclosed [A-Za-z]+ (<salt\.[\w.]+ object at 0x[0-9a-f]+>|for cls=<class '[\w.]+'>); "
    r"call ``(destroy|close)\(\)`` or use as a context manager\s*$")


def is_noise(line):
    return bool(RESOURCE_WARNING.match(line))


def copy_streams(proc, out, err):
    """Copy proc's stdout and stderr line by line to out and err, dropping the noise; wait for
    proc; return how many lines were dropped."""
    dropped = [0, 0]

    def pump(src, dst, slot):
        for line in src:
            if is_noise(line):
                dropped[slot] += 1
                continue
            dst.write(line)
            dst.flush()

    threads = [threading.Thread(target=pump, args=(proc.stdout, out, 0)),
               threading.Thread(target=pump, args=(proc.stderr, err, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proc.wait()
    return sum(dropped)
