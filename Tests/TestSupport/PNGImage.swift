import DRCore
import Foundation

/// A decoded PNG (8-bit grey, grey+alpha, RGB or RGBA, not interlaced), for tests that look
/// at screenshots. Includes a small zlib/DEFLATE decoder (RFC 1950/1951: stored, fixed and
/// dynamic Huffman blocks), since Foundation on Linux has no zlib API.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// RGB triples, row by row (alpha dropped: screenshots are opaque).
    public let rgb: [UInt8]

    public struct RGB: Sendable, Hashable, CustomStringConvertible {
        public var r: UInt8
        public var g: UInt8
        public var b: UInt8

        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
            self.r = r
            self.g = g
            self.b = b
        }

        /// `#rrggbb`.
        public init?(hex: String) {
            let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
            guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
            self.init(UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF))
        }

        /// The largest difference of one channel.
        public func distance(_ other: RGB) -> Int {
            max(abs(Int(r) - Int(other.r)), abs(Int(g) - Int(other.g)), abs(Int(b) - Int(other.b)))
        }

        public var description: String { String(format: "#%02x%02x%02x", r, g, b) }
    }

    public init(decoding bytes: [UInt8]) throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw PNGError("not a PNG file") }
        var offset = 8
        var header: (width: Int, height: Int, depth: UInt8, colour: UInt8, interlace: UInt8)?
        var compressed: [UInt8] = []
        func be32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        while offset + 12 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= bytes.count else { throw PNGError("chunk \(type) runs past the end") }
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            switch type {
            case "IHDR":
                guard length == 13 else { throw PNGError("bad IHDR") }
                let w = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
                let h = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
                header = (w, h, data[8], data[9], data[12])
            case "IDAT":
                compressed += data
            default:
                break
            }
            offset += 12 + length
            if type == "IEND" { break }
        }
        guard let header else { throw PNGError("no IHDR chunk") }
        guard header.depth == 8, header.interlace == 0 else {
            throw PNGError("unsupported PNG: bit depth \(header.depth), interlace \(header.interlace)")
        }
        let channels: Int
        switch header.colour {
        case 0: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: throw PNGError("unsupported PNG colour type \(header.colour)")
        }
        let raw = try Inflate.zlib(compressed)
        let stride = header.width * channels
        guard raw.count >= header.height * (stride + 1) else { throw PNGError("image data too short") }
        var pixels = [UInt8](repeating: 0, count: header.height * stride)
        try pixels.withUnsafeMutableBufferPointer { out in
            try raw.withUnsafeBufferPointer { input in
                for y in 0..<header.height {
                    let filter = input[y * (stride + 1)]
                    let source = y * (stride + 1) + 1
                    let row = y * stride
                    for x in 0..<stride {
                        let value = Int(input[source + x])
                        let a = x >= channels ? Int(out[row + x - channels]) : 0
                        let b = y > 0 ? Int(out[row - stride + x]) : 0
                        let c = x >= channels && y > 0 ? Int(out[row - stride + x - channels]) : 0
                        let predicted: Int
                        switch filter {
                        case 0: predicted = 0
                        case 1: predicted = a
                        case 2: predicted = b
                        case 3: predicted = (a + b) / 2
                        case 4:
                            let p = a + b - c
                            let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                            predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                        default: throw PNGError("bad filter type \(filter) in row \(y)")
                        }
                        out[row + x] = UInt8((value + predicted) & 0xFF)
                    }
                }
            }
        }
        var rgb = [UInt8](repeating: 0, count: header.width * header.height * 3)
        for index in 0..<(header.width * header.height) {
            let base = index * channels
            if channels >= 3 {
                rgb[index * 3] = pixels[base]
                rgb[index * 3 + 1] = pixels[base + 1]
                rgb[index * 3 + 2] = pixels[base + 2]
            } else {
                rgb[index * 3] = pixels[base]
                rgb[index * 3 + 1] = pixels[base]
                rgb[index * 3 + 2] = pixels[base]
            }
        }
        width = header.width
        height = header.height
        self.rgb = rgb
    }

    public init(contentsOf path: String) throws {
        try self.init(decoding: try FileIO.read(path))
    }

    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// The pixels within `tolerance` (per channel) of `colour`, inside `region` when given.
    public func points(near colour: RGB, tolerance: Int = 0, in region: Region? = nil) -> [(x: Int, y: Int)] {
        let area = region ?? Region(minX: 0, minY: 0, maxX: width - 1, maxY: height - 1)
        var found: [(x: Int, y: Int)] = []
        for y in area.minY...area.maxY {
            for x in area.minX...area.maxX where pixel(x, y).distance(colour) <= tolerance {
                found.append((x, y))
            }
        }
        return found
    }

    /// The bounding box of the pixels exactly `colour`; nil when there are none.
    public func bounds(of colour: RGB) -> Region? {
        let found = points(near: colour)
        guard let first = found.first else { return nil }
        var region = Region(minX: first.x, minY: first.y, maxX: first.x, maxY: first.y)
        for point in found {
            region.minX = min(region.minX, point.x)
            region.maxX = max(region.maxX, point.x)
            region.minY = min(region.minY, point.y)
            region.maxY = max(region.maxY, point.y)
        }
        return region
    }

    /// The number of distinct colours (a blank or failed render has very few).
    public var distinctColours: Int {
        var seen = Set<UInt32>()
        for index in stride(from: 0, to: rgb.count, by: 3) {
            seen.insert(UInt32(rgb[index]) << 16 | UInt32(rgb[index + 1]) << 8 | UInt32(rgb[index + 2]))
        }
        return seen.count
    }

    public struct Region: Sendable, Hashable {
        public var minX: Int
        public var minY: Int
        public var maxX: Int
        public var maxY: Int

        public init(minX: Int, minY: Int, maxX: Int, maxY: Int) {
            self.minX = minX
            self.minY = minY
            self.maxX = maxX
            self.maxY = maxY
        }

        public var width: Int { maxX - minX + 1 }
        public var height: Int { maxY - minY + 1 }
    }
}

public struct PNGError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// zlib (RFC 1950) around DEFLATE (RFC 1951).
public enum Inflate {
    /// Decompresses a zlib stream and checks its Adler-32.
    public static func zlib(_ data: [UInt8]) throws -> [UInt8] {
        guard data.count >= 6 else { throw PNGError("zlib stream too short") }
        let cmf = data[0], flg = data[1]
        guard cmf & 0x0F == 8, (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0, flg & 0x20 == 0 else {
            throw PNGError("bad zlib header")
        }
        var reader = BitReader(data, start: 2)
        let out = try inflate(&reader)
        reader.alignToByte()
        let at = reader.byteOffset
        guard at + 4 <= data.count else { throw PNGError("zlib stream has no Adler-32") }
        let expected = UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
        guard adler32(out) == expected else { throw PNGError("zlib Adler-32 mismatch") }
        return out
    }

    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            while index < end {
                a += UInt32(bytes[index])
                b += a
                index += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    struct BitReader {
        let data: [UInt8]
        var byteOffset: Int
        var bitBuffer: UInt64 = 0
        var bitCount = 0

        init(_ data: [UInt8], start: Int) {
            self.data = data
            byteOffset = start
        }

        mutating func fill(_ count: Int) {
            while bitCount < count {
                let byte = byteOffset < data.count ? UInt64(data[byteOffset]) : 0
                byteOffset += 1
                bitBuffer |= byte << UInt64(bitCount)
                bitCount += 8
            }
        }

        mutating func bits(_ count: Int) throws -> Int {
            if count == 0 { return 0 }
            fill(count)
            guard byteOffset <= data.count + 8 else { throw PNGError("DEFLATE stream ends early") }
            let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
            bitBuffer >>= UInt64(count)
            bitCount -= count
            return value
        }

        /// Drops the bits of a partial byte; whole unread bytes go back to the stream.
        mutating func alignToByte() {
            let drop = bitCount % 8
            bitBuffer >>= UInt64(drop)
            bitCount -= drop
            byteOffset -= bitCount / 8
            bitBuffer = 0
            bitCount = 0
        }
    }

    /// A canonical Huffman code as a 15-bit lookup table: entry = symbol << 4 | length.
    struct Huffman {
        var table: [Int32]
        static let bits = 15

        init(lengths: [Int]) throws {
            var counts = [Int](repeating: 0, count: 16)
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var next = [Int](repeating: 0, count: 16)
            var code = 0
            for length in 1...15 {
                code = (code + counts[length - 1]) << 1
                next[length] = code
            }
            table = [Int32](repeating: -1, count: 1 << Self.bits)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                let value = next[length]
                next[length] += 1
                guard value < (1 << length) else { throw PNGError("over-subscribed Huffman code") }
                var reversed = 0
                for bit in 0..<length where value & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
                var index = reversed
                while index < (1 << Self.bits) {
                    table[index] = Int32(symbol << 4 | length)
                    index += 1 << length
                }
            }
        }

        func decode(_ reader: inout BitReader) throws -> Int {
            reader.fill(Self.bits)
            let entry = table[Int(reader.bitBuffer & ((1 << UInt64(Self.bits)) - 1))]
            guard entry >= 0 else { throw PNGError("invalid Huffman code") }
            let length = Int(entry & 0xF)
            reader.bitBuffer >>= UInt64(length)
            reader.bitCount -= length
            return Int(entry >> 4)
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static func inflate(_ reader: inout BitReader) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(reader.data.count * 4)
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let at = reader.byteOffset
                guard at + 4 <= reader.data.count else { throw PNGError("stored block header past the end") }
                let length = Int(reader.data[at]) | Int(reader.data[at + 1]) << 8
                let complement = Int(reader.data[at + 2]) | Int(reader.data[at + 3]) << 8
                guard length == (~complement & 0xFFFF), at + 4 + length <= reader.data.count else {
                    throw PNGError("bad stored block")
                }
                out += reader.data[(at + 4)..<(at + 4 + length)]
                reader.byteOffset = at + 4 + length
            case 1:
                let literal = try Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : ($0 < 256 ? 9 : ($0 < 280 ? 7 : 8)) })
                let distance = try Huffman(lengths: [Int](repeating: 5, count: 30))
                try block(&reader, &out, literal, distance)
            case 2:
                let literalCount = try reader.bits(5) + 257
                let distanceCount = try reader.bits(5) + 1
                let codeCount = try reader.bits(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var codeLengths = [Int](repeating: 0, count: 19)
                for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
                let lengthCode = try Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try lengthCode.decode(&reader)
                    switch symbol {
                    case 0...15: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw PNGError("repeat with no previous length") }
                        lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
                    case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
                    default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
                    }
                }
                guard lengths.count == literalCount + distanceCount else { throw PNGError("code lengths overrun") }
                let literal = try Huffman(lengths: Array(lengths[0..<literalCount]))
                let distance = try Huffman(lengths: Array(lengths[literalCount...]))
                try block(&reader, &out, literal, distance)
            default:
                throw PNGError("reserved DEFLATE block type")
            }
        }
        return out
    }

    static func block(_ reader: inout BitReader, _ out: inout [UInt8], _ literal: Huffman, _ distance: Huffman) throws {
        while true {
            let symbol = try literal.decode(&reader)
            if symbol < 256 {
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < lengthBase.count else { throw PNGError("bad length symbol") }
                let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
                let code = try distance.decode(&reader)
                guard code < distanceBase.count else { throw PNGError("bad distance symbol") }
                let back = distanceBase[code] + (try reader.bits(distanceExtra[code]))
                guard back <= out.count else { throw PNGError("distance too far back") }
                let start = out.count - back
                for offset in 0..<length { out.append(out[start + offset]) }
            }
        }
    }
}
