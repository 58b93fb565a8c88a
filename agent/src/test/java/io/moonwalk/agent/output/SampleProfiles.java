package io.moonwalk.agent.output;

import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Hand-built profiles: the input of the writers. */
final class SampleProfiles {
    static final ProcessIdentity NGINX = new ProcessIdentity(4242, "nginx", "/usr/sbin/nginx", "");
    static final ProcessIdentity LUAJIT = new ProcessIdentity(77, "luajit", "/usr/bin/luajit", "");
    static final long PERIOD = 10_101_010L; // 99 Hz
    static final long START = 1_795_000_000_123_000_000L;
    static final long DURATION = 10_000_000_000L;

    static final CodeMapping NGINX_TEXT = new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L,
            0x2000, "deadbeefcafe");
    static final CodeMapping LIBC_TEXT = new CodeMapping("/usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f00_1002_8000L,
            0x7f00_1017_d000L, 0x28000, "c0ffee");
    static final CodeMapping LUAJIT_TEXT = new CodeMapping("/usr/bin/luajit", 0x5600_0000_4000L, 0x5600_0008_4000L,
            0x4000, "");
    static final CodeMapping KERNEL = new CodeMapping("[kernel.kallsyms]", 0xffffffff81000000L, 0xffffffff83000000L,
            0, "7dd4ff0789e05e14285320129149da2555ca0bfc");

    static final Frame NGINX_MAIN = Frame.nativeCode("main", 0x5555_5555_7123L, NGINX_TEXT);
    static final Frame HANDLER = Frame.nativeCode("ngx_http_handler", 0x5555_5558_0041L, NGINX_TEXT);
    static final Frame LUA_HANDLER = Frame.interpreted("luajit", "handler", "/etc/nginx/app.lua", 12, 10, false);
    static final Frame JIT_FIB = Frame.interpreted("luajit", "fib", "/etc/nginx/app.lua", 3, 1, true);
    static final Frame EPOLL = Frame.nativeCode("epoll_wait", 0x7f00_1010_0a3fL, LIBC_TEXT);
    static final Frame K_EPOLL = Frame.kernel("do_epoll_wait", 0xffffffff81400123L, KERNEL);
    static final Frame K_SCHEDULE = Frame.kernel("schedule", 0xffffffff81a00456L, KERNEL);
    static final Frame LUAJIT_MAIN = Frame.nativeCode("main", 0x5600_0000_5010L, LUAJIT_TEXT);
    static final Frame STDIN_F = Frame.interpreted("luajit", "f", "stdin", 1, 1, false);
    static final Frame UNKNOWN = Frame.error("[unknown]");

    /** Counts: 30 + 10 + 5 on one stack (different labels/threads), 20 in the kernel, 7 in luajit. */
    static Profile small() {
        List<Frame> luaStack = List.of(NGINX_MAIN, HANDLER, LUA_HANDLER, JIT_FIB);
        return new Profile(START, DURATION, PERIOD, List.of(
                new Profile.Entry(NGINX, "nginx", luaStack, Map.of("vmstate", "trace"), 30),
                new Profile.Entry(NGINX, "nginx", luaStack, Map.of("vmstate", "interp"), 10),
                new Profile.Entry(NGINX, "worker-2", luaStack, Map.of(), 5),
                new Profile.Entry(NGINX, "nginx", List.of(NGINX_MAIN, EPOLL, K_EPOLL, K_SCHEDULE), Map.of(), 20),
                new Profile.Entry(LUAJIT, "luajit", List.of(LUAJIT_MAIN, STDIN_F, UNKNOWN), Map.of(), 7)));
    }

    static final String INJECTION = "</script><b>\"bold\"</b>'x&y";

    /** {@link #small()} plus a wide frame whose name tries to break out of the page's script. */
    static Profile withHostileName() {
        List<Profile.Entry> entries = new ArrayList<>(small().entries());
        entries.add(new Profile.Entry(LUAJIT, "luajit",
                List.of(LUAJIT_MAIN, Frame.nativeCode(INJECTION, 0x1000_0010L,
                        new CodeMapping("<img src=x onerror=alert(1)>", 0x1000_0000L, 0x1001_0000L, 0, ""))),
                Map.of("vmstate", "</script>"), 40));
        return new Profile(START, DURATION, PERIOD, entries);
    }

    /** {@code stacks} stacks 8-40 frames deep (nearly all distinct) over a vocabulary of names, all kinds mixed. */
    static Profile large(int stacks, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        FrameKind[] kinds = FrameKind.values();
        Frame[] vocabulary = new Frame[3000];
        for (int i = 0; i < vocabulary.length; i++) {
            FrameKind kind = kinds[i % kinds.length];
            CodeMapping lib = new CodeMapping("/usr/lib/lib" + (i % 20) + ".so", 0x7f00_0000_0000L + (i % 20) * 0x100000L,
                    0x7f00_0000_0000L + (i % 20 + 1) * 0x100000L, 0, "");
            vocabulary[i] = switch (kind) {
                case INTERPRETED -> Frame.interpreted("luajit", "fn" + i, "/srv/app/mod" + (i % 40) + ".lua", i % 300,
                        1, i % 8 == 2);
                case NATIVE -> Frame.nativeCode("sym_" + i, lib.start() + i, lib);
                case KERNEL -> Frame.kernel("sym_" + i, KERNEL.start() + i * 16L, KERNEL);
                case ERROR -> Frame.error("[sym_" + i + "]");
            };
        }
        List<Profile.Entry> entries = new ArrayList<>(stacks);
        for (int s = 0; s < stacks; s++) {
            int depth = 8 + rnd.nextInt(33);
            List<Frame> frames = new ArrayList<>(depth);
            // A call graph with few callees per function, like real programs: stacks share long
            // prefixes, so the flame graph is deep rather than a wall of one-pixel slivers.
            int prev = rnd.nextInt(3);
            frames.add(vocabulary[prev]);
            for (int d = 1; d < depth; d++) {
                int callee = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(4) : 0; // one hot callee, a few cold ones
                prev = (prev * 31 + 7 + callee) % vocabulary.length;
                frames.add(vocabulary[prev]);
            }
            ProcessIdentity p = new ProcessIdentity(1000 + s % 8, "worker" + (s % 4), "/usr/sbin/nginx", "");
            entries.add(new Profile.Entry(p, "t" + (s % 8), frames, Map.of("vmstate", "s" + (s % 5)),
                    1 + rnd.nextInt(50)));
        }
        return new Profile(START, DURATION, PERIOD, entries);
    }

    private SampleProfiles() {
    }
}
