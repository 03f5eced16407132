import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

extension PGConnection {
    /// Whether TLS already holds input that libpq has not read. That input makes no socket
    /// readable, so waiting on the socket could wait forever; libpq's own waits check it the same
    /// way (`pgtls_read_pending`), which a non-blocking driver has to do itself.
    func hasDecryptedInput(_ pg: OpaquePointer) -> Bool {
        guard PQsslInUse(pg) == 1, let ssl = PQsslStruct(pg, "OpenSSL") else { return false }
        if let hasPending = OpenSSLPending.hasPending { return hasPending(ssl) == 1 }
        return (OpenSSLPending.pending?(ssl) ?? 0) > 0
    }
}

/// OpenSSL's pending-input checks, looked up in the process (libpq loads libssl): PGClient does not
/// link OpenSSL itself, and a libpq built without it never reports TLS in use.
enum OpenSSLPending {
    typealias Check = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    /// `SSL_has_pending` (OpenSSL 1.1+): decrypted or not-yet-processed input.
    static let hasPending = symbol("SSL_has_pending")
    /// `SSL_pending`: decrypted input only (older OpenSSL).
    static let pending = symbol("SSL_pending")

    private static func symbol(_ name: String) -> Check? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: Check.self) }
    }
}
