package io.moonwalk.agent.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The web view's inlined front-end code: uPlot (vendored from npm, see {@code vendor/README.md}) and
 * the timeline that uses it. Inlined rather than served so a saved page works offline and the
 * pages' CSP can forbid every fetch.
 */
final class WebAssets {
    /** Head markup: uPlot's CSS and script, then the timeline script. */
    static final String HEAD = "<style>" + read("vendor/uPlot.min.css") + "</style>\n<script>" + read("vendor/uPlot.iife.min.js")
            + "</script>\n<script>" + read("timeline.js") + "</script>\n";

    private WebAssets() {
    }

    private static String read(String name) {
        try (InputStream in = WebAssets.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("web asset " + name + " is missing from the classpath next to "
                        + WebAssets.class.getName());
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (text.toLowerCase(java.util.Locale.ROOT).contains("</script")) {
                throw new IllegalStateException("web asset " + name + " contains </script and cannot be inlined");
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read web asset " + name, e);
        }
    }
}
