package io.moonwalk.agent.output;

import io.moonwalk.agent.profile.Profile;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/** Serializes a symbolized {@link Profile} in one output format. */
public interface ProfileWriter {

    /** Writes {@code profile} to {@code out}; does not close the stream. */
    void write(Profile profile, OutputStream out) throws IOException;

    /**
     * Writes {@code profile} to {@code target} atomically: readers see either the old file or the
     * complete new one, never a partial write.
     */
    default void writeFile(Profile profile, Path target) throws IOException {
        AtomicFileWriter.write(target, out -> write(profile, out));
    }
}
