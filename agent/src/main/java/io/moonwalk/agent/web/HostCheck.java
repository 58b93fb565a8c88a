package io.moonwalk.agent.web;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * DNS-rebinding defence for the profile views: a web page of another origin can point its own DNS
 * name at 127.0.0.1 and make the user's browser fetch our pages under that name. The browser then
 * sends that name as {@code Host}. Profile pages answer only requests whose {@code Host} is an IP
 * literal, {@code localhost}, or this machine's own host name — names an attacker's DNS cannot
 * borrow. The port is not checked ({@code kubectl port-forward} and SSH tunnels change it).
 * {@code /metrics}, {@code /healthz} and {@code /readyz} are not checked: scrapers and probes use
 * service names, and those endpoints reveal no profile data.
 */
final class HostCheck {
    private final String ownName;

    HostCheck() {
        this(localName());
    }

    HostCheck(String ownName) {
        this.ownName = ownName == null ? null : ownName.toLowerCase(Locale.ROOT);
    }

    private static String localName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether a request with this {@code Host} header may see profile pages. */
    boolean allows(String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) {
            return false;
        }
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) { // [v6]:port
            int close = h.indexOf(']');
            return close > 1 && isIpv6(h.substring(1, close)) && (close == h.length() - 1 || isPort(h.substring(close + 1)));
        }
        int colon = h.lastIndexOf(':');
        String name = h;
        if (colon >= 0) {
            if (!isPort(h.substring(colon))) {
                return false;
            }
            name = h.substring(0, colon);
        }
        return name.equals("localhost") || isIpv4(name) || name.equals(ownName);
    }

    private static boolean isPort(String colonPort) {
        if (colonPort.length() < 2 || colonPort.length() > 6 || colonPort.charAt(0) != ':') {
            return false;
        }
        for (int i = 1; i < colonPort.length(); i++) {
            if (!Character.isDigit(colonPort.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIpv6(String s) {
        return s.contains(":") && s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.');
    }
}
