package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Mutual TLS to real servers, with a CA and certificates made by the openssl command line tool. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@Tag("tools")
class OtlpTlsExportTest {

    @TempDir
    static Path pki;

    @BeforeAll
    static void makeCertificates() throws Exception {
        Files.writeString(pki.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        Files.writeString(pki.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=moonwalk test CA");
        for (String who : List.of("server", "client")) {
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", who + ".key", "-out", who + ".csr", "-subj", "/CN=" + who);
            openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", who + ".pem", "-days", "2", "-extfile", who + ".ext");
        }
        assertThat(Files.readString(pki.resolve("client.key"))).contains("-----BEGIN PRIVATE KEY-----");
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("openssl %s: %s", cmd, out).isZero();
    }

    private static Map<String, String> env(String protocol, int port, boolean withCa) {
        Map<String, String> env = new HashMap<>();
        env.put("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "https://127.0.0.1:" + port
                + (protocol.equals("grpc") ? "" : "/v1development/profiles"));
        env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
        env.put("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
        env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "3000");
        if (withCa) {
            env.put("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.resolve("ca.pem").toString());
        }
        env.put("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", pki.resolve("client.pem").toString());
        env.put("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki.resolve("client.key").toString());
        return env;
    }

    private static final RetryPolicy TWO_TRIES = new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(20), 2, 2);

    @Test
    void grpcMutualTls() throws Exception {
        OtlpGrpcExportTest.Receiver receiver = new OtlpGrpcExportTest.Receiver();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                        TlsServerCredentials.newBuilder()
                                .keyManager(pki.resolve("server.pem").toFile(), pki.resolve("server.key").toFile())
                                .trustManager(pki.resolve("ca.pem").toFile())
                                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())
                .addService(receiver).build().start();
        try {
            Profile input = TestProfiles.twoProcesses();
            assertDelivered(env("grpc", server.getPort(), true), input);
            assertThat(receiver.received).hasSize(1);
            ReceivedExport.assertRepresents(receiver.received.getFirst(), input);
            assertNotDelivered(env("grpc", server.getPort(), false));
            assertThat(receiver.received).hasSize(1);
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void httpMutualTls() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(TlsMaterial.keyManagers(pki.resolve("server.pem"), pki.resolve("server.key")),
                TlsMaterial.trustManagers(pki.resolve("ca.pem")), null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                var p = ctx.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        List<ExportProfilesServiceRequest> received = new CopyOnWriteArrayList<>();
        server.createContext("/v1development/profiles", ex -> {
            try (ex) {
                received.add(ExportProfilesServiceRequest.parseFrom(
                        new java.util.zip.GZIPInputStream(ex.getRequestBody())));
                ex.sendResponseHeaders(200, -1);
            } catch (IOException e) {
                ex.sendResponseHeaders(400, -1);
            }
        });
        server.start();
        try {
            Profile input = TestProfiles.twoProcesses();
            assertDelivered(env("http/protobuf", server.getAddress().getPort(), true), input);
            assertThat(received).hasSize(1);
            ReceivedExport.assertRepresents(received.getFirst(), input);
            assertNotDelivered(env("http/protobuf", server.getAddress().getPort(), false));
            assertThat(received).hasSize(1);
        } finally {
            server.stop(0);
        }
    }

    private static void assertDelivered(Map<String, String> env, Profile input) {
        try (OtlpExporter e = new OtlpExporter(OtlpSender.create(OtlpConfig.fromEnvironment(env)),
                ReceivedExport.encoder(), 1 << 20, TWO_TRIES)) {
            e.offer(input);
            assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
            assertThat(e.sentRequests()).isEqualTo(1);
            assertThat(e.retries()).isZero();
        }
    }

    /** Without our CA the JDK default trust store must reject the test server's certificate. */
    private static void assertNotDelivered(Map<String, String> env) {
        try (OtlpExporter e = new OtlpExporter(OtlpSender.create(OtlpConfig.fromEnvironment(env)),
                ReceivedExport.encoder(), 1 << 20, TWO_TRIES)) {
            e.offer(TestProfiles.twoProcesses());
            assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
            assertThat(e.sentRequests()).isZero();
            assertThat(e.failedRequests()).isEqualTo(1);
        }
    }
}
