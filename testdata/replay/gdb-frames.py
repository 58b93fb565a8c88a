# gdb -batch -x gdb-frames.py BINARY CORE: the core's first thread as gdb unwinds it (DWARF of the fixture builds),
# one frame per line, leaf first: "normal|inline PC NAME". Ground truth of the replay suite's native frames.
import gdb

gdb.execute("set backtrace past-main on")
gdb.execute("set backtrace past-entry on")
frame = gdb.newest_frame()
for _ in range(200):
    if frame is None:
        break
    kind = "inline" if frame.type() == gdb.INLINE_FRAME else "normal"
    print("%s 0x%x %s" % (kind, frame.pc(), frame.name() or "??"))
    try:
        frame = frame.older()
    except gdb.error:
        break
