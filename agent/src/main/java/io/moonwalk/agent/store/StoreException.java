package io.moonwalk.agent.store;

/** A stored window is unreadable or inconsistent (the message names the file), or a request on the store is over its bounds. */
public class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }
}
