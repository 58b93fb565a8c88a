package io.moonwalk.agent.output;

import io.moonwalk.agent.profile.Profile;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A self-contained HTML flame graph: the page template (inline CSS and JS, no network access)
 * with the profile data injected as script-safe JSON. See {@link FlameGraphData} for the data.
 */
public final class FlameGraphHtmlWriter implements ProfileWriter {
    static final String TEMPLATE_RESOURCE = "flamegraph.html";
    static final String PLACEHOLDER = "/*@MOONWALK_PROFILE_DATA@*/";

    private static final String[] TEMPLATE = loadTemplate();

    @Override
    public void write(Profile profile, OutputStream out) throws IOException {
        String json = FlameGraphData.toJson(profile);
        out.write(TEMPLATE[0].getBytes(StandardCharsets.UTF_8));
        // The JSON is pure ASCII (ScriptSafeJson escapes everything else).
        out.write(json.getBytes(StandardCharsets.US_ASCII));
        out.write(TEMPLATE[1].getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The template split around its single data placeholder. */
    private static String[] loadTemplate() {
        try (InputStream in = FlameGraphHtmlWriter.class.getResourceAsStream(TEMPLATE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("flame graph template " + TEMPLATE_RESOURCE
                        + " is missing from the classpath next to " + FlameGraphHtmlWriter.class.getName());
            }
            String html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int at = html.indexOf(PLACEHOLDER);
            if (at < 0 || html.indexOf(PLACEHOLDER, at + 1) >= 0) {
                throw new IllegalStateException("flame graph template " + TEMPLATE_RESOURCE
                        + " must contain " + PLACEHOLDER + " exactly once");
            }
            return new String[] {html.substring(0, at), html.substring(at + PLACEHOLDER.length())};
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read flame graph template " + TEMPLATE_RESOURCE, e);
        }
    }
}
