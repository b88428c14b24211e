import Testing

@testable import ParleyServer

@Suite struct SecretComparisonTests {
    @Test func secretsMatchOnlyWhenEveryByteIsTheSame() {
        #expect(SecretComparison.equal("plt_abc_secret", "plt_abc_secret"))
        #expect(!SecretComparison.equal("plt_abc_secret", "plt_abc_secreT"))
        #expect(!SecretComparison.equal("plt_abc_secret", "plt_abc_secret "))
        #expect(!SecretComparison.equal("", "x"))
        #expect(SecretComparison.equal("", ""))
        #expect(SecretComparison.equal([UInt8](), [UInt8]()))
        #expect(SecretComparison.equal(Array("Basic YTpi".utf8), Array("Basic YTpi".utf8)))
        #expect(!SecretComparison.equal(Array("Basic YTpi".utf8), Array("Basic YTpj".utf8)))
    }
}
