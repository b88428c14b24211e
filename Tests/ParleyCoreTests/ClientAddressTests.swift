import Testing

@testable import ParleyCore

/// Who a request came from behind proxies: `X-Forwarded-For` is believed only as far as trusted
/// proxies appended it.
@Suite struct ClientAddressTests {
    let proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"].compactMap(IPRange.init)

    @Test func withoutTrustedProxiesTheClientIsThePeer() {
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["203.0.113.7"], trusted: []) == "127.0.0.1")
    }

    @Test func aClientThatIsNotAProxyCannotNameAnotherAddress() {
        // A client reaching Parley directly writes the header itself: it is ignored.
        #expect(
            ClientAddress.resolve(peer: "198.51.100.4", forwardedFor: ["203.0.113.7"], trusted: proxies)
                == "198.51.100.4")
    }

    @Test func behindProxiesTheClientIsTheRightMostUntrustedAddress() {
        // The client wrote "1.1.1.1" itself; the first proxy appended the client's real address, the
        // second the first proxy's.
        #expect(
            ClientAddress.resolve(
                peer: "127.0.0.1", forwardedFor: ["1.1.1.1, 203.0.113.7, 10.0.0.2"], trusted: proxies) == "203.0.113.7")
        // Several header lines are one list, in order.
        #expect(
            ClientAddress.resolve(peer: "10.1.1.1", forwardedFor: ["1.1.1.1", "203.0.113.9"], trusted: proxies)
                == "203.0.113.9")
        // IPv6, in brackets or not, and IPv4-mapped peers.
        #expect(
            ClientAddress.resolve(peer: "fd00::1", forwardedFor: ["[2001:db8::7]"], trusted: proxies) == "2001:db8::7")
        #expect(
            ClientAddress.resolve(peer: "::ffff:127.0.0.1", forwardedFor: ["192.0.2.5"], trusted: proxies)
                == "192.0.2.5")
    }

    @Test func whatIsNotAnAddressStopsAtTheProxyThatPassedItOn() {
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["203.0.113.7, evil, 10.0.0.2"], trusted: proxies)
                == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: [""], trusted: proxies) == "127.0.0.1")
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["1.2.3.4:80"], trusted: proxies) == "127.0.0.1")
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["1.2.3.4\u{0}"], trusted: proxies) == "127.0.0.1")
        // Only trusted hops: the farthest of them.
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["10.0.0.9, 10.0.0.2"], trusted: proxies)
                == "10.0.0.9")
        // A header of thousands of trusted entries is not walked to its end.
        let long = Array(repeating: "10.0.0.3", count: 5000).joined(separator: ",")
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["8.8.8.8," + long], trusted: proxies) == "10.0.0.3")
    }

    @Test func rangesMatchTheirPrefixOnly() throws {
        let ten = try #require(IPRange("10.0.0.0/8"))
        #expect(ten.contains(try #require(IPAddress("10.255.1.2"))))
        #expect(!ten.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!ten.contains(try #require(IPAddress("::a00:1"))), "an IPv6 address is not in an IPv4 range")
        let odd = try #require(IPRange("192.168.4.0/22"))
        #expect(odd.contains(try #require(IPAddress("192.168.7.255"))))
        #expect(!odd.contains(try #require(IPAddress("192.168.8.0"))))
        #expect(try #require(IPRange("0.0.0.0/0")).contains(try #require(IPAddress("203.0.113.1"))))
        #expect(try #require(IPRange("fd00::/8")).contains(try #require(IPAddress("fdab::1"))))
        for bad in [
            "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/0008", "::/129", "host", "1.2.3", "10.0.0.0/8/8",
        ] {
            #expect(IPRange(bad) == nil, "\(bad)")
        }
        #expect(try #require(IPAddress("2001:DB8:0:0::1")).description == "2001:db8::1")
    }

    @Test func theConfigurationReadsTrustedProxies() throws {
        let config = try ConfigLoader(builtins: []).load(
            yaml: "server: { trusted_proxies: [127.0.0.1, \"10.0.0.0/8\", \"::1\"] }", file: "p.yaml",
            baseDirectory: "/srv")
        #expect(config.server.trustedProxies.map(\.description) == ["127.0.0.1", "10.0.0.0/8", "::1"])
    }
}
