package io.moonwalk.agent.export.otlp;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * Trust and key managers from the PEM files named by {@code OTEL_EXPORTER_OTLP_CERTIFICATE},
 * {@code _CLIENT_CERTIFICATE} and {@code _CLIENT_KEY}; shared by the gRPC and HTTP senders so both
 * accept the same files and fail with the same messages.
 */
public final class TlsMaterial {

    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448"};

    private TlsMaterial() {
    }

    /** Trust managers for the CA file, or null to use the JDK's default trust store. */
    public static TrustManager[] trustManagers(Path caFile) {
        if (caFile == null) {
            return null;
        }
        try (InputStream in = Files.newInputStream(caFile)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("CA file " + caFile + " holds no PEM certificate");
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf.getTrustManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read CA certificates from " + caFile
                    + " (OTEL_EXPORTER_OTLP_CERTIFICATE): " + e.getMessage(), e);
        }
    }

    /** Key managers for mutual TLS, or null when no client certificate is configured. */
    public static KeyManager[] keyManagers(Path certFile, Path keyFile) {
        if (certFile == null || keyFile == null) {
            return null;
        }
        Certificate[] chain;
        try (InputStream in = Files.newInputStream(certFile)) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the client certificate " + certFile
                    + " (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE): " + e.getMessage(), e);
        }
        if (chain.length == 0) {
            throw new IllegalArgumentException("client certificate file " + certFile + " holds no PEM certificate");
        }
        PrivateKey key = privateKey(keyFile);
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("client", key, none, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            return kmf.getKeyManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("client key " + keyFile + " does not fit certificate " + certFile
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * The X.509 trust manager for {@code config}: its CA file's, or the JDK default's (the OpenTelemetry
     * SDK's exporters take an {@link SSLContext} only together with it).
     */
    public static X509TrustManager x509TrustManager(OtlpConfig config) {
        TrustManager[] managers = trustManagers(config.certificate());
        if (managers == null) {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init((KeyStore) null);
                managers = tmf.getTrustManagers();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK has no default trust store: " + e.getMessage(), e);
            }
        }
        for (TrustManager m : managers) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("the JDK offers no X.509 trust manager");
    }

    public static SSLContext sslContext(OtlpConfig config) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(config.clientCertificate(), config.clientKey()),
                    new TrustManager[] {x509TrustManager(config)}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot create a TLS context: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path keyFile) {
        String pem;
        try {
            pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the client key " + keyFile
                    + " (OTEL_EXPORTER_OTLP_CLIENT_KEY): " + e.getMessage(), e);
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf(end);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("client key " + keyFile + " is not an unencrypted PKCS#8 PEM key"
                    + " (-----BEGIN PRIVATE KEY-----); convert it with"
                    + " `openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key`");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("client key " + keyFile + " has broken base64: " + ex.getMessage(), ex);
        }
        for (String alg : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm: PKCS#8 names it, but KeyFactory has to be picked up front
            }
        }
        throw new IllegalArgumentException("client key " + keyFile + " is not an RSA, EC, Ed25519 or Ed448 PKCS#8 key");
    }
}
