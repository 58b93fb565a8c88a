package io.moonwalk.agent.output;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The file formats a profile can be written as, chosen by the output file's extension. */
public enum OutputFormat {
    /** Self-contained HTML flame graph. */
    HTML(".html"),
    /** Brendan Gregg's collapsed stacks, one line per distinct stack. */
    FOLDED(".folded"),
    /** gzip-compressed pprof ({@code perftools.profiles.Profile}). */
    PPROF(".pb.gz");

    private final String extension;

    OutputFormat(String extension) {
        this.extension = extension;
    }

    /** The file name suffix, including the leading dot. */
    public String extension() {
        return extension;
    }

    /** A new writer for this format with default settings. */
    public ProfileWriter newWriter() {
        return switch (this) {
            case HTML -> new FlameGraphHtmlWriter();
            case FOLDED -> new FoldedWriter();
            case PPROF -> new PprofWriter();
        };
    }

    /**
     * The format for {@code file}, by its extension (case-insensitive).
     *
     * @throws IllegalArgumentException naming the file and the supported extensions when none matches
     */
    public static OutputFormat forPath(Path file) {
        Path name = file.getFileName();
        String lower = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
        for (OutputFormat f : values()) {
            if (lower.endsWith(f.extension) && lower.length() > f.extension.length()) {
                return f;
            }
        }
        throw new IllegalArgumentException("cannot tell the profile format of '" + file
                + "': its name must end in one of " + supportedExtensions());
    }

    /**
     * The file another profile of the same recording goes to: {@code tag} inserted before this format's extension
     * ({@code out.html}, {@code offcpu} -> {@code out.offcpu.html}), in the same directory.
     */
    public Path sibling(Path file, String tag) {
        String name = file.getFileName().toString();
        String stem = name.substring(0, name.length() - extension.length());
        return file.resolveSibling(stem + "." + tag + name.substring(stem.length()));
    }

    /** The supported extensions, for help texts and error messages. */
    public static String supportedExtensions() {
        return Arrays.stream(values())
                .map(f -> f.extension + " (" + f.description() + ")")
                .collect(Collectors.joining(", "));
    }

    private String description() {
        return switch (this) {
            case HTML -> "flame graph";
            case FOLDED -> "collapsed stacks";
            case PPROF -> "gzipped pprof";
        };
    }
}
