package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;

import java.util.List;
import java.util.Map;

/** Hand-built profiles: kernel, native and Lua (interpreted and JIT) frames in two processes. */
final class TestProfiles {

    static final ProcessIdentity NGINX = new ProcessIdentity(4242, "nginx", "/usr/sbin/nginx", "");
    static final ProcessIdentity LUAJIT = new ProcessIdentity(777, "luajit", "/usr/bin/luajit-2.1",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

    static final long START = 1_760_000_000_000_000_000L;
    static final long DURATION = 10_000_000_000L;
    static final long PERIOD = 52_631_578L;

    private TestProfiles() {
    }

    static final CodeMapping KERNEL = new CodeMapping("[kernel.kallsyms]", 0xffffffff81000000L, 0xffffffff83000000L,
            0, "7dd4ff0789e05e14285320129149da2555ca0bfc");
    static final CodeMapping NGINX_TEXT = new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L,
            0x2000, "deadbeefcafe");
    static final CodeMapping LIBC_TEXT = new CodeMapping("/usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f00_1002_8000L,
            0x7f00_1017_d000L, 0x28000, "", "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    static final CodeMapping LUAJIT_TEXT = new CodeMapping("/usr/bin/luajit-2.1", 0x5600_0000_4000L,
            0x5600_0008_4000L, 0x4000, "0123abcd");

    /** A stable address inside {@code m} per name, so the same name is one location. */
    private static long at(CodeMapping m, String name) {
        return m.start() + 0x100 + (name.hashCode() & 0xfff0);
    }

    static Frame kernel(String name) {
        return Frame.kernel(name, at(KERNEL, name), KERNEL);
    }

    static Frame nginx(String name) {
        return Frame.nativeCode(name, at(NGINX_TEXT, name), NGINX_TEXT);
    }

    static Frame libc(String name) {
        return Frame.nativeCode(name, at(LIBC_TEXT, name), LIBC_TEXT);
    }

    static Frame lua(String function, String chunk, int line, int startLine) {
        return Frame.interpreted("luajit", function, chunk, line, startLine, false);
    }

    static Frame jit(String function, String chunk, int line, int startLine) {
        return Frame.interpreted("luajit", function, chunk, line, startLine, true);
    }

    static Profile twoProcesses() {
        List<Frame> nginxLua = List.of(libc("__libc_start_main"), nginx("main"), nginx("ngx_worker_process_cycle"),
                nginx("ngx_http_lua_content_handler"), lua("main chunk", "content_by_lua(nginx.conf:12)", 2, 0),
                lua("handler", "/srv/app.lua", 30, 28), jit("json_encode", "/usr/share/lua/cjson.lua", 88, 80));
        List<Frame> nginxSyscall = List.of(libc("__libc_start_main"), nginx("main"), nginx("ngx_worker_process_cycle"),
                libc("epoll_wait"), kernel("entry_SYSCALL_64"), kernel("do_epoll_wait"));
        List<Frame> luajitStack = List.of(libc("__libc_start_main"), Frame.nativeCode("main", 0x5600_0000_5123L, LUAJIT_TEXT),
                lua("main chunk", "bench.lua", 1, 0), lua("fib", "bench.lua", 3, 2), lua("fib", "bench.lua", 3, 2));
        List<Frame> truncated = List.of(Frame.error("[unwind error: pc not mapped]"), lua("fib", "bench.lua", 3, 2));
        return new Profile(START, DURATION, PERIOD, List.of(
                new Profile.Entry(NGINX, "nginx", nginxLua,
                        Map.of("luajit.vm_state", "compiled", "luajit.trace", "17", "luajit.vm", "0x7f0011220000"), 41),
                new Profile.Entry(NGINX, "nginx", nginxSyscall, Map.of(), 7),
                new Profile.Entry(LUAJIT, "luajit", luajitStack, Map.of("luajit.vm_state", "interpreted"), 120),
                new Profile.Entry(LUAJIT, "worker-1", luajitStack, Map.of("luajit.vm_state", "interpreted"), 3),
                new Profile.Entry(LUAJIT, "luajit", truncated, Map.of(), 2)));
    }
}
