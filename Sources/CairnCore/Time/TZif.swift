#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reader of TZif files, the compiled form of the IANA time zone database (RFC 8536) found
/// under /usr/share/zoneinfo.
///
///     | header v1 | data v1 (32-bit times) | header v2 | data v2 (64-bit times) | \n TZ \n |
///                                            '----------- version 2 and later only -----------'
///
///     header (44 B): "TZif", version (0, '2', '3' or '4'), 15 unused bytes, then six
///                    big-endian UInt32 counts: isutcnt isstdcnt leapcnt timecnt typecnt charcnt
///     data:          timecnt transition times (Int32 in v1, Int64 in v2+), ascending
///                    timecnt transition types (UInt8, index of a local time type)
///                    typecnt local time types (Int32 utoff, UInt8 isdst, UInt8 desigidx)
///                    charcnt designation bytes, leapcnt leap-second records (8 or 12 B),
///                    isstdcnt and isutcnt indicator bytes
///     footer:        a POSIX TZ string between newlines, for instants after the last
///                    transition (may be empty)
///
/// Invariants checked: the magic, every count within the file, typecnt >= 1, isstdcnt and
/// isutcnt 0 or typecnt, every transition type < typecnt, times strictly ascending, utoff
/// not -2^31. Version 1 files use the first block; later versions skip it and use the 64-bit
/// block and the footer. Leap-second records are ignored, as Go's `time` package ignores
/// them: offsets are for POSIX time, which has no leap seconds.
enum TZif {
    /// Files larger than this are not time zones (the largest TZif is a few KiB).
    static let maximumSize = 1 << 20

    /// The zone rules in `bytes`, or nil if they are not a well-formed TZif file.
    static func parse(_ bytes: [UInt8]) -> ZoneRules? {
        var r = Reader(bytes: bytes)
        guard let v1 = r.header() else { return nil }
        guard v1.version >= 2 else {
            return r.block(v1, timeSize: 4).map {
                ZoneRules(transitions: $0.times, offsets: $0.offsets, initialOffset: $0.initial, footer: nil)
            }
        }
        guard r.skip(v1.dataSize(timeSize: 4)), let v2 = r.header(), let block = r.block(v2, timeSize: 8)
        else { return nil }
        // The footer, required from version 2 on: "\n" TZ "\n", TZ possibly empty.
        guard r.take(0x0A) else { return nil }
        let start = r.offset
        guard let end = bytes[start...].firstIndex(of: 0x0A) else { return nil }
        let footer = end > start ? POSIXTimeZoneRule.parse(bytes[start..<end]) : nil
        return ZoneRules(transitions: block.times, offsets: block.offsets, initialOffset: block.initial, footer: footer)
    }

    /// Reads the TZif file at `path`; nil if it cannot be read or is not TZif.
    static func load(path: String) -> ZoneRules? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { SystemIO.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { return nil }  // also EISDIR for a directory
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maximumSize { return nil }
        }
        return parse(bytes)
    }

    struct Header {
        let version: Int
        let isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int

        func dataSize(timeSize: Int) -> Int {
            timecnt * timeSize + timecnt + typecnt * 6 + charcnt + leapcnt * (timeSize + 4) + isstdcnt + isutcnt
        }
    }

    struct Block {
        let times: [Int64]
        let offsets: [Int32]
        let initial: Int32
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, bytes.count - offset >= n else { return false }
            offset += n
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard offset < bytes.count, bytes[offset] == byte else { return false }
            offset += 1
            return true
        }

        func uint32(at i: Int) -> UInt32 {
            UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        }

        func int64(at i: Int) -> Int64 {
            Int64(bitPattern: UInt64(uint32(at: i)) << 32 | UInt64(uint32(at: i + 4)))
        }

        mutating func header() -> Header? {
            guard bytes.count - offset >= 44,
                bytes[offset] == 0x54, bytes[offset + 1] == 0x5A, bytes[offset + 2] == 0x69, bytes[offset + 3] == 0x66
            else { return nil }  // "TZif"
            let v = bytes[offset + 4]
            let version: Int
            switch v {
            case 0: version = 1
            case 0x32...0x39: version = Int(v - 0x30)
            default: return nil
            }
            func count(_ k: Int) -> Int { Int(uint32(at: offset + 20 + 4 * k)) }
            let header = Header(
                version: version, isutcnt: count(0), isstdcnt: count(1), leapcnt: count(2),
                timecnt: count(3), typecnt: count(4), charcnt: count(5))
            offset += 44
            guard header.typecnt >= 1, header.typecnt <= 256,
                header.isstdcnt == 0 || header.isstdcnt == header.typecnt,
                header.isutcnt == 0 || header.isutcnt == header.typecnt,
                header.timecnt <= bytes.count, header.leapcnt <= bytes.count, header.charcnt <= bytes.count
            else { return nil }
            return header
        }

        mutating func block(_ h: Header, timeSize: Int) -> Block? {
            let size = h.dataSize(timeSize: timeSize)
            guard bytes.count - offset >= size else { return nil }
            let timesAt = offset
            let typesAt = timesAt + h.timecnt * timeSize
            let recordsAt = typesAt + h.timecnt
            var typeOffsets: [Int32] = []
            typeOffsets.reserveCapacity(h.typecnt)
            for k in 0..<h.typecnt {
                let utoff = Int32(bitPattern: uint32(at: recordsAt + 6 * k))
                guard utoff != Int32.min else { return nil }
                typeOffsets.append(utoff)
            }
            var times: [Int64] = []
            var offsets: [Int32] = []
            times.reserveCapacity(h.timecnt)
            offsets.reserveCapacity(h.timecnt)
            for k in 0..<h.timecnt {
                let t =
                    timeSize == 4
                    ? Int64(Int32(bitPattern: uint32(at: timesAt + 4 * k))) : int64(at: timesAt + 8 * k)
                if let last = times.last, t <= last { return nil }
                let type = Int(bytes[typesAt + k])
                guard type < h.typecnt else { return nil }
                times.append(t)
                offsets.append(typeOffsets[type])
            }
            offset += size
            return Block(times: times, offsets: offsets, initial: typeOffsets[0])
        }
    }
}
