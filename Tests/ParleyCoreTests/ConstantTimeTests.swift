import Crypto
import ParleyCore
import Testing

@Suite struct ConstantTimeTests {
    @Test func secretsMatchOnlyWhenEveryByteIsTheSame() {
        #expect(ConstantTime.equal("plt_abc_secret", "plt_abc_secret"))
        #expect(!ConstantTime.equal("plt_abc_secret", "plt_abc_secreT"))
        #expect(!ConstantTime.equal("plt_abc_secret", "plt_abc_secret "))
        #expect(!ConstantTime.equal("", "x"))
        #expect(ConstantTime.equal("", ""))
        #expect(ConstantTime.equal([UInt8](), [UInt8]()))
        #expect(ConstantTime.equal(Array("Basic YTpi".utf8), Array("Basic YTpi".utf8)))
        #expect(!ConstantTime.equal(Array("Basic YTpi".utf8), Array("Basic YTpj".utf8)))
    }

    @Test func aTokenIsFoundAmongSeveralByItsDigest() {
        let expected = ["first-token", "second-token"].map { SHA256.hash(data: Array($0.utf8)) }
        #expect(ConstantTime.isOne(of: expected, Array("second-token".utf8)))
        #expect(!ConstantTime.isOne(of: expected, Array("second-tokeN".utf8)))
        #expect(!ConstantTime.isOne(of: [], Array("first-token".utf8)))
    }
}
