/// Little-endian writer for the manifest and journal headers.
struct StateByteWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u64(_ value: Int) { u64(UInt64(value)) }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// Zero bytes up to the next multiple of 8.
    mutating func pad() {
        while bytes.count % 8 != 0 { bytes.append(0) }
    }
}
