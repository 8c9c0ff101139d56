/// BIP-173 bech32 (not bech32m) as used by age keys, without the 90-character limit
/// (age identities are longer). Mixed-case strings are rejected.
public enum Bech32 {
    private static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, char) in charset.enumerated() {
            table[Int(char)] = Int8(index)
            // Uppercase letters map to the same value; case consistency is checked separately.
            if char >= UInt8(ascii: "a") && char <= UInt8(ascii: "z") {
                table[Int(char - 32)] = Int8(index)
            }
        }
        return table
    }()

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for value in values {
            let top = chk >> 25
            chk = ((chk & 0x1ff_ffff) << 5) ^ UInt32(value)
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 {
                chk ^= generator[i]
            }
        }
        return chk
    }

    private static func hrpExpand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Regroups bits; when decoding (`pad == false`) leftover bits must be fewer than
    /// `from` and zero.
    private static func convertBits(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var acc = 0
        var bits = 0
        var out: [UInt8] = []
        out.reserveCapacity(data.count * from / to + 1)
        let maxValue = (1 << to) - 1
        for value in data {
            guard Int(value) >> from == 0 else { return nil }
            acc = (acc << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((acc >> bits) & maxValue))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((acc << (to - bits)) & maxValue)) }
        } else if bits >= from || (acc << (to - bits)) & maxValue != 0 {
            return nil
        }
        return out
    }

    private static func validHRP(_ hrp: [UInt8]) -> Bool {
        !hrp.isEmpty && hrp.allSatisfy { $0 >= 33 && $0 <= 126 }
    }

    /// Encodes 8-bit `data` under `hrp`. The result is lowercase if `hrp` is lowercase and
    /// uppercase if `hrp` is uppercase. Throws ``AgeError/Code/usage`` for an empty,
    /// mixed-case or non-printable HRP.
    public static func encode(hrp: String, data: [UInt8]) throws -> String {
        let hrpBytes = Array(hrp.utf8)
        guard validHRP(hrpBytes) else {
            throw AgeError(.usage, "bech32: the human-readable part must be 1 or more printable ASCII characters")
        }
        let hasLower = hrpBytes.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        let hasUpper = hrpBytes.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        guard !(hasLower && hasUpper) else {
            throw AgeError(.usage, "bech32: the human-readable part must not mix upper and lower case")
        }
        let encoded = encodeLowercase(hrp: hrp.lowercased(), data: data)
        return hasUpper ? encoded.uppercased() : encoded
    }

    /// Encoding for a known-valid lowercase HRP.
    static func encodeLowercase(hrp: String, data: [UInt8]) -> String {
        let hrpBytes = Array(hrp.utf8)
        // Regrouping 8-bit to 5-bit with padding cannot fail.
        let values = convertBits(data, from: 8, to: 5, pad: true) ?? []
        let polymodInput = hrpExpand(hrpBytes) + values + [0, 0, 0, 0, 0, 0]
        let mod = polymod(polymodInput) ^ 1
        var out = hrpBytes
        out.append(UInt8(ascii: "1"))
        for value in values { out.append(charset[Int(value)]) }
        for i in 0..<6 { out.append(charset[Int((mod >> UInt32(5 * (5 - i))) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a bech32 string. Returns the HRP in lowercase and the 8-bit data.
    /// Throws ``AgeError/Code/malformedKey`` on any violation (the message does not
    /// repeat the input, which may be a secret key).
    public static func decode(_ string: String) throws -> (hrp: String, data: [UInt8]) {
        func fail(_ why: String) -> AgeError { AgeError(.malformedKey, "invalid bech32 string: \(why)") }
        let bytes = Array(string.utf8)
        guard bytes.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
            throw fail("it contains characters outside printable ASCII")
        }
        let hasLower = bytes.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        let hasUpper = bytes.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        guard !(hasLower && hasUpper) else { throw fail("it mixes upper and lower case") }
        guard let separator = bytes.lastIndex(of: UInt8(ascii: "1")) else {
            throw fail("the separator '1' is missing")
        }
        guard separator >= 1 else { throw fail("the human-readable part is empty") }
        guard bytes.count - separator - 1 >= 6 else { throw fail("it is too short for a checksum") }
        let hrp = bytes[..<separator].map { $0 | (($0 >= 65 && $0 <= 90) ? 32 : 0) }
        var values: [UInt8] = []
        values.reserveCapacity(bytes.count - separator - 1)
        for char in bytes[(separator + 1)...] {
            let value = reverse[Int(char)]
            guard value >= 0 else { throw fail("it contains a character outside the bech32 alphabet") }
            values.append(UInt8(value))
        }
        guard polymod(hrpExpand(hrp) + values) == 1 else { throw fail("the checksum does not match (typo or truncation?)") }
        guard let data = convertBits(Array(values.dropLast(6)), from: 5, to: 8, pad: false) else {
            throw fail("the data has invalid padding")
        }
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
