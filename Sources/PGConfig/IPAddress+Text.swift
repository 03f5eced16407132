import Glibc

extension IPAddress {
    /// Numeric text of 4 or 16 address bytes (`inet_ntop`'s canonical form); `nil` for other lengths.
    static func text(_ bytes: [UInt8]) -> String? {
        switch bytes.count {
        case 4:
            var address = in_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: address) { text(family: AF_INET, $0) }
        case 16:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: address) { text(family: AF_INET6, $0) }
        default:
            return nil
        }
    }

    /// `inet_ntop` of an IPv4 or IPv6 socket address (as `getaddrinfo` gives it); `nil` for any other family.
    static func text(of address: UnsafePointer<sockaddr>) -> String? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                withUnsafePointer(to: inet.pointee.sin_addr) { text(family: AF_INET, $0) }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                withUnsafePointer(to: inet6.pointee.sin6_addr) { text(family: AF_INET6, $0) }
            }
        default:
            return nil
        }
    }

    /// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it reaches, so that no
    /// range check can be passed by writing one address in the other family's form.
    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else { return address }
        return Array(address[12..<16])
    }

    private static func text<Address>(family: Int32, _ address: UnsafePointer<Address>) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
