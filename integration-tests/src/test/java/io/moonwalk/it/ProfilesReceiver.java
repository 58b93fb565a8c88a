package io.moonwalk.it;

import com.sun.net.httpserver.HttpServer;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP profiles receiver on loopback: a grpc-java {@code ProfilesService} server and a JDK
 * HTTP server at {@code /v1development/profiles}. Keeps every request with its arrival time; can be
 * stopped and restarted on the same port (outage) and made to answer slowly.
 */
final class ProfilesReceiver implements AutoCloseable {
    record Received(long arrivalNanos, ExportProfilesServiceRequest request, String transport) {
    }

    final int grpcPort;
    final int httpPort;
    final List<Received> received = new CopyOnWriteArrayList<>();
    volatile long delayMillis;
    private Server grpc;
    private HttpServer http;

    ProfilesReceiver() throws IOException {
        grpcPort = freePort();
        httpPort = freePort();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    String grpcEndpoint() {
        return "http://127.0.0.1:" + grpcPort;
    }

    String httpEndpoint() {
        return "http://127.0.0.1:" + httpPort + "/v1development/profiles";
    }

    void startGrpc() throws IOException {
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort), InsecureServerCredentials.create())
                .maxInboundMessageSize(64 << 20)
                .addService(new ProfilesServiceGrpc.ProfilesServiceImplBase() {
                    @Override
                    public void export(ExportProfilesServiceRequest request,
                                       StreamObserver<ExportProfilesServiceResponse> out) {
                        pause();
                        received.add(new Received(System.nanoTime(), request, "grpc"));
                        out.onNext(ExportProfilesServiceResponse.getDefaultInstance());
                        out.onCompleted();
                    }
                }).build().start();
    }

    void stopGrpc() throws InterruptedException {
        grpc.shutdownNow();
        grpc.awaitTermination(10, TimeUnit.SECONDS);
    }

    void startHttp() throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", httpPort), 16);
        http.createContext("/v1development/profiles", ex -> {
            try (ex) {
                pause();
                InputStream body = ex.getRequestBody();
                if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                    body = new GZIPInputStream(body);
                }
                ExportProfilesServiceRequest req = ExportProfilesServiceRequest.parseFrom(body.readAllBytes());
                received.add(new Received(System.nanoTime(), req, "http"));
                byte[] resp = ExportProfilesServiceResponse.getDefaultInstance().toByteArray();
                ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                ex.sendResponseHeaders(200, resp.length == 0 ? -1 : resp.length);
                if (resp.length > 0) {
                    ex.getResponseBody().write(resp);
                }
            }
        });
        http.start();
    }

    private void pause() {
        long d = delayMillis;
        if (d > 0) {
            try {
                Thread.sleep(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (grpc != null) {
            grpc.shutdownNow();
        }
        if (http != null) {
            http.stop(0);
        }
    }
}
