package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;

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

    static Frame kernel(String name) {
        return new Frame(FrameKind.KERNEL, name, "[kernel.kallsyms]");
    }

    static Frame nginx(String name) {
        return new Frame(FrameKind.NATIVE, name, "/usr/sbin/nginx");
    }

    static Frame libc(String name) {
        return new Frame(FrameKind.NATIVE, name, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    }

    static Frame lua(String name) {
        return new Frame(FrameKind.LUA, name, "");
    }

    static Frame jit(String name) {
        return new Frame(FrameKind.LUA_JIT, name, "");
    }

    static Profile twoProcesses() {
        List<Frame> nginxLua = List.of(libc("__libc_start_main"), nginx("main"), nginx("ngx_worker_process_cycle"),
                nginx("ngx_http_lua_content_handler"), lua("content_by_lua (nginx.conf:12)"),
                lua("handler (app.lua:30)"), jit("json_encode (cjson.lua:88)"));
        List<Frame> nginxSyscall = List.of(libc("__libc_start_main"), nginx("main"), nginx("ngx_worker_process_cycle"),
                libc("epoll_wait"), kernel("entry_SYSCALL_64"), kernel("do_epoll_wait"));
        List<Frame> luajitStack = List.of(libc("__libc_start_main"), new Frame(FrameKind.NATIVE, "main", "/usr/bin/luajit-2.1"),
                lua("@bench.lua:1"), lua("fib (bench.lua:3)"), lua("fib (bench.lua:3)"));
        List<Frame> truncated = List.of(new Frame(FrameKind.ERROR, "[unwind error: pc not mapped]", ""),
                lua("fib (bench.lua:3)"));
        return new Profile(START, DURATION, PERIOD, List.of(
                new Profile.Entry(NGINX, "nginx", nginxLua,
                        Map.of("luajit.vm_state", "compiled", "luajit.trace", "17", "luajit.vm", "0x7f0011220000"), 41),
                new Profile.Entry(NGINX, "nginx", nginxSyscall, Map.of(), 7),
                new Profile.Entry(LUAJIT, "luajit", luajitStack, Map.of("luajit.vm_state", "interpreted"), 120),
                new Profile.Entry(LUAJIT, "worker-1", luajitStack, Map.of("luajit.vm_state", "interpreted"), 3),
                new Profile.Entry(LUAJIT, "luajit", truncated, Map.of(), 2)));
    }
}
