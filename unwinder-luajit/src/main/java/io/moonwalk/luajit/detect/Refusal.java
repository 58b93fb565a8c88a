package io.moonwalk.luajit.detect;

/** A LuaJIT binary cannot be handled with certainty; the message says which step failed and why. */
final class Refusal extends Exception {
    Refusal(String message) {
        super(message);
    }
}
