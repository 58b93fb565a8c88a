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
 * The agent's web view uses the same page with view data (timeline, selected ranges) and its
 * chart library inlined; {@code record}'s file has neither.
 */
public final class FlameGraphHtmlWriter implements ProfileWriter {
    static final String TEMPLATE_RESOURCE = "flamegraph.html";
    static final String PLACEHOLDER = "/*@MOONWALK_PROFILE_DATA@*/";
    static final String VIEW_PLACEHOLDER = "/*@MOONWALK_VIEW_DATA@*/";
    static final String ASSETS_PLACEHOLDER = "<!--@MOONWALK_VIEW_ASSETS@-->";

    private static final String[] TEMPLATE = loadTemplate();

    @Override
    public void write(Profile profile, OutputStream out) throws IOException {
        write(profile, null, "null", "", out);
    }

    /**
     * The web view's page: {@code profile} (the comparison when {@code baseline} is not null),
     * {@code viewJson} (script-safe JSON the page's view code reads) and {@code assets} (trusted
     * markup placed in the head: inlined library scripts and styles).
     */
    public void write(Profile profile, Profile baseline, String viewJson, String assets, OutputStream out)
            throws IOException {
        String json = FlameGraphData.toJson(profile, baseline);
        out.write(TEMPLATE[0].getBytes(StandardCharsets.UTF_8));
        out.write(assets.getBytes(StandardCharsets.UTF_8));
        out.write(TEMPLATE[1].getBytes(StandardCharsets.UTF_8));
        // The JSON is pure ASCII (ScriptSafeJson escapes everything else).
        out.write(json.getBytes(StandardCharsets.US_ASCII));
        out.write(TEMPLATE[2].getBytes(StandardCharsets.UTF_8));
        out.write(viewJson.getBytes(StandardCharsets.US_ASCII));
        out.write(TEMPLATE[3].getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The template split around its placeholders (assets, profile data, view data), each there once in that order. */
    private static String[] loadTemplate() {
        try (InputStream in = FlameGraphHtmlWriter.class.getResourceAsStream(TEMPLATE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("flame graph template " + TEMPLATE_RESOURCE
                        + " is missing from the classpath next to " + FlameGraphHtmlWriter.class.getName());
            }
            String html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String[] parts = new String[4];
            int from = 0;
            String[] marks = {ASSETS_PLACEHOLDER, PLACEHOLDER, VIEW_PLACEHOLDER};
            for (int i = 0; i < marks.length; i++) {
                int at = html.indexOf(marks[i], from);
                if (at < 0 || html.indexOf(marks[i], at + 1) >= 0) {
                    throw new IllegalStateException("flame graph template " + TEMPLATE_RESOURCE
                            + " must contain " + marks[i] + " exactly once, after the previous placeholder");
                }
                parts[i] = html.substring(from, at);
                from = at + marks[i].length();
            }
            parts[3] = html.substring(from);
            return parts;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read flame graph template " + TEMPLATE_RESOURCE, e);
        }
    }
}
