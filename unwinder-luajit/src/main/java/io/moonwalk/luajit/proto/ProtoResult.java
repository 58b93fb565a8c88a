package io.moonwalk.luajit.proto;

/** What a proto lookup gives: the proto, or why there is none. Failures are constants, so they cost nothing. */
public sealed interface ProtoResult permits ProtoInfo, ProtoFailure {
}
