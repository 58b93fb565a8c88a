package io.moonwalk.agent.output;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Renders a page in Debian's headless Chromium: the real browser is the judge of the HTML. */
public final class HeadlessChromium {
    public static final String BINARY = "/usr/bin/chromium";

    /**
     * Loads {@code page} (plus {@code fragment}, may be empty), lets scripts run for
     * {@code budgetMillis} of virtual time and returns the DOM; also writes a 1200x800 screenshot
     * when {@code screenshot} is not null.
     */
    public static String dumpDom(Path page, String fragment, Path screenshot, int budgetMillis)
            throws IOException, InterruptedException {
        Path profileDir = Files.createTempDirectory("moonwalk-chromium-");
        try {
            List<String> cmd = new ArrayList<>(List.of(BINARY, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    "--user-data-dir=" + profileDir, "--virtual-time-budget=" + budgetMillis,
                    "--window-size=1200,800", "--force-device-scale-factor=1", "--dump-dom"));
            if (screenshot != null) {
                cmd.add("--screenshot=" + screenshot.toAbsolutePath());
            }
            cmd.add(page.toAbsolutePath().toUri() + fragment);
            ExternalTool.Result r = ExternalTool.run(cmd, null, profileDir, 90);
            if (r.exitCode() != 0 || !r.stdout().contains("</html>")) {
                throw new IOException("chromium failed (exit " + r.exitCode() + "): " + r.stderr());
            }
            return r.stdout();
        } finally {
            try (Stream<Path> s = Files.walk(profileDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private HeadlessChromium() {
    }
}
