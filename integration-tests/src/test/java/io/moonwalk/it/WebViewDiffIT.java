package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.DevTools;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The diff as an on-call engineer uses it, end to end: a real LuaJIT workload switches its hot
 * function half-way (it prints when), the real agent stores its windows, and in headless Chromium
 * the range before the switch becomes the baseline of the range after it: the new hot function is
 * the table's biggest gain and the old one its biggest loss.
 */
class WebViewDiffIT {
    static final String WORKLOAD = """
            local function old_hot(n) local s = 0 for i = 1, n do s = s + i % 7 end return s end
            local function new_hot(n) local s = 0 for i = 1, n do s = s + i % 11 end return s end
            io.read('*l') -- the test says go once the agent samples
            local t0 = os.time()
            print('start ' .. t0) io.stdout:flush()
            local sink, switched = 0, false
            while os.time() - t0 < 24 do
              if os.time() - t0 < 12 then sink = sink + old_hot(100000)
              else
                if not switched then switched = true print('switch ' .. os.time()) io.stdout:flush() end
                sink = sink + new_hot(100000)
              end
            end
            print('end ' .. os.time() .. ' ' .. sink) io.stdout:flush()
            """;

    @Test
    void aDiffAcrossTheSwitchShowsTheNewHotFunctionAsTheBiggestGain() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path dir = Moonwalk.WORK.resolve("webview-diff-" + ProcessHandle.current().pid());
        AgentIT.delete(dir);
        Process luajit = new ProcessBuilder("luajit", "-e", WORKLOAD).redirectErrorStream(true).start();
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--hz", "99", "--interval", "2s", "--pid",
                Long.toString(luajit.pid()), "--store-dir", dir.toString(), "--store-max-age", "1h")) {
            BufferedReader out = new BufferedReader(new InputStreamReader(luajit.getInputStream(), StandardCharsets.UTF_8));
            Thread.sleep(2000); // the agent is attached (start() waited for it) and syncing the process
            luajit.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
            luajit.getOutputStream().flush();
            long start = seconds(out.readLine(), "start");
            long switched = seconds(out.readLine(), "switch");
            long end = seconds(out.readLine(), "end");
            assertThat(luajit.waitFor(10, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(3000); // the last window is cut and stored
            // the workload's own clock, in whole seconds: keep one second off each edge
            long bfrom = (start + 1) * 1000, bto = (switched - 1) * 1000;
            long from = (switched + 1) * 1000, to = (end - 1) * 1000;
            try (DevTools b = new DevTools()) {
                String base = "http://127.0.0.1:" + agent.httpPort;
                b.open(base + "/flamegraph?pid=" + luajit.pid() + "&from=" + bfrom + "&to=" + bto);
                String before = b.eval("document.querySelector('#top-table tbody tr').getAttribute('data-fn')");
                // whole windows overlapping the range are merged: the window across the switch brings some
                // new_hot, but old_hot leads before the switch
                assertThat(b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).map(r => r.getAttribute("
                        + "'data-fn')).find(f => /_hot/.test(f))")).startsWith("old_hot");
                b.markPage();
                b.eval("document.getElementById('set-baseline').click()");
                b.awaitRendered();
                b.open(b.eval("location.href").replaceAll("([?&])from=\\d+", "$1from=" + from)
                        .replaceAll("([?&])to=\\d+", "$1to=" + to));
                String gain = b.eval("document.querySelector('#top-table tbody tr').getAttribute('data-fn')");
                String change = b.eval("document.querySelector('#top-table tbody tr td:last-child').textContent");
                String loss = b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).pop().getAttribute('data-fn')");
                String lossChange = b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).pop().lastChild.textContent");
                // old_hot's own row: its share fell by most of the profile (its caller's line, main chunk:8, falls as much)
                String oldChange = b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).find(r => r.getAttribute("
                        + "'data-fn').startsWith('old_hot')).lastChild.textContent");
                Path png = Moonwalk.WORK.resolve("webview-diff.png");
                b.screenshot(png);
                System.out.printf("webview diff: workload switched at %d s; before the switch the top self function was %s;"
                        + " biggest gain %s %s, biggest loss %s %s, old_hot %s; screenshot %s%n", switched, before, gain,
                        change, loss, lossChange, oldChange, png);
                assertThat(gain).startsWith("new_hot");
                assertThat(change).startsWith("+");
                assertThat(lossChange).startsWith("-");
                assertThat(Double.parseDouble(oldChange.replace(" pp", ""))).as("old_hot's change").isLessThan(-50);
            }
            agent.terminate();
        } finally {
            luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static long seconds(String line, String word) {
        assertThat(line).as("workload output").startsWith(word + " ");
        return Long.parseLong(line.split(" ")[1]);
    }
}
