package io.moonwalk.agent.output;

import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
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

    static final Frame NGINX_MAIN = new Frame(FrameKind.NATIVE, "main", "/usr/sbin/nginx");
    static final Frame HANDLER = new Frame(FrameKind.NATIVE, "ngx_http_handler", "/usr/sbin/nginx");
    static final Frame LUA_HANDLER = new Frame(FrameKind.LUA, "handler (@/etc/nginx/app.lua:12)", "");
    static final Frame JIT_FIB = new Frame(FrameKind.LUA_JIT, "fib (@/etc/nginx/app.lua:3)", "");
    static final Frame EPOLL = new Frame(FrameKind.NATIVE, "epoll_wait", "/usr/lib/x86_64-linux-gnu/libc.so.6");
    static final Frame K_EPOLL = new Frame(FrameKind.KERNEL, "do_epoll_wait", "");
    static final Frame K_SCHEDULE = new Frame(FrameKind.KERNEL, "schedule", "");
    static final Frame LUAJIT_MAIN = new Frame(FrameKind.NATIVE, "main", "/usr/bin/luajit");
    static final Frame STDIN_F = new Frame(FrameKind.LUA, "f (=stdin:1)", "");
    static final Frame UNKNOWN = new Frame(FrameKind.ERROR, "[unknown]", "");

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
                List.of(LUAJIT_MAIN, new Frame(FrameKind.NATIVE, INJECTION, "<img src=x onerror=alert(1)>")),
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
            String name = switch (kind) {
                case LUA, LUA_JIT -> "fn" + i + " (@/srv/app/mod" + (i % 40) + ".lua:" + (i % 300) + ")";
                default -> "sym_" + i;
            };
            vocabulary[i] = new Frame(kind, name, kind == FrameKind.NATIVE ? "/usr/lib/lib" + (i % 20) + ".so" : "");
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
