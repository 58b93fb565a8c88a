package io.moonwalk.agent.store;

/** A stored window is unreadable or inconsistent; the message names the file. */
public class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }
}
