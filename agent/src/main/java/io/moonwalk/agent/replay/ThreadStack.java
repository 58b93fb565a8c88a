package io.moonwalk.agent.replay;

import io.moonwalk.frame.Frame;
import java.util.List;
import java.util.Map;

/**
 * One thread of a core, walked and named.
 *
 * @param tid    the thread id (NT_PRSTATUS)
 * @param comm   the name recorded for the process (NT_PRPSINFO; a core holds no per-thread names)
 * @param frames leaf first, named as {@code record} names them
 * @param labels the sample labels of the thread's stack (e.g. the LuaJIT VM, its state and trace)
 */
public record ThreadStack(int tid, String comm, List<Frame> frames, Map<String, String> labels) {
}
