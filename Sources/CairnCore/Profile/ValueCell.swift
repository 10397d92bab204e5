/// One stored profile value in 16 bytes: what `last`, `first`, `min` and `max` keep.
///
///     byte  0      1      2        3 ..< 16
///          | tag | flags | length | inline bytes (13)          |   short string or JSON text
///          | tag | flags |  --    | --  | length u32 | handle u64 |   longer text, in the arena
///          | tag |  --   |  --    | --  |  --        | value 8 B  |   bool, int, uint, double,
///                                                                     timestamp, duration
///
/// Strings keep their bytes as the event had them: JSON string contents, still escaped when
/// `flags & escaped` (so reading them back costs no decoding unless an expression needs it).
/// Lists and maps keep their JSON text. Text longer than 13 bytes lives in the store's arena,
/// referenced by handle; clearing the cell frees (and zeroes) it.
///
/// All functions take the cell's address; the cell lies inside a store payload.
enum ValueCell {
    static let size = 16
    static let inlineCapacity = 13

    enum Tag: UInt8 {
        case unset = 0, null, bool, int, uint, double, timestamp, duration
        case stringInline, stringArena, jsonInline, jsonArena
    }

    static let escapedFlag: UInt8 = 1

    @inline(__always)
    static func tag(_ cell: UnsafeRawPointer) -> Tag {
        Tag(rawValue: cell.load(as: UInt8.self)) ?? .unset
    }

    @inline(__always)
    static func isSet(_ cell: UnsafeRawPointer) -> Bool { cell.load(as: UInt8.self) != 0 }

    /// Frees the cell's arena text, if any, and zeroes it.
    static func clear(_ cell: UnsafeMutableRawPointer, store: StateStore) {
        switch tag(cell) {
        case .stringArena, .jsonArena:
            let count = Int(cell.load(fromByteOffset: 4, as: UInt32.self))
            let handle = cell.load(fromByteOffset: 8, as: UInt64.self)
            if handle != 0 { store.free(handle, count: count) }
        default: break
        }
        cell.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    /// Stores a scalar (anything but text), replacing what the cell held.
    static func storeScalar(_ tag: Tag, bits: UInt64, in cell: UnsafeMutableRawPointer, store: StateStore) {
        clear(cell, store: store)
        cell.storeBytes(of: tag.rawValue, as: UInt8.self)
        cell.storeBytes(of: bits, toByteOffset: 8, as: UInt64.self)
    }

    /// Stores text (a string's contents or a list's or map's JSON text), replacing what the
    /// cell held. Text that fits stays inline; longer text goes to the arena.
    static func storeText(
        _ bytes: UnsafeRawBufferPointer, json: Bool, escaped: Bool, in cell: UnsafeMutableRawPointer,
        store: StateStore
    ) throws(StateError) {
        clear(cell, store: store)
        let flags: UInt8 = escaped ? escapedFlag : 0
        if bytes.count <= inlineCapacity {
            cell.storeBytes(of: (json ? Tag.jsonInline : .stringInline).rawValue, as: UInt8.self)
            cell.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
            cell.storeBytes(of: UInt8(bytes.count), toByteOffset: 2, as: UInt8.self)
            if bytes.count > 0 { (cell + 3).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            return
        }
        guard bytes.count <= Int(UInt32.max) else { throw .tooLarge("a profile value of \(bytes.count) bytes") }
        let handle = try store.allocate(bytes.count)
        store.bytes(handle).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        store.markDirty(handle, count: bytes.count)
        cell.storeBytes(of: (json ? Tag.jsonArena : .stringArena).rawValue, as: UInt8.self)
        cell.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
        cell.storeBytes(of: UInt32(bytes.count), toByteOffset: 4, as: UInt32.self)
        cell.storeBytes(of: handle, toByteOffset: 8, as: UInt64.self)
    }

    /// The text of a string or JSON cell, as stored (escaped when `escaped(cell)`).
    @inline(__always)
    static func text(_ cell: UnsafeRawPointer, store: StateStore) -> UnsafeRawBufferPointer {
        switch tag(cell) {
        case .stringInline, .jsonInline:
            return UnsafeRawBufferPointer(start: cell + 3, count: Int(cell.load(fromByteOffset: 2, as: UInt8.self)))
        case .stringArena, .jsonArena:
            let count = Int(cell.load(fromByteOffset: 4, as: UInt32.self))
            return UnsafeRawBufferPointer(start: store.bytes(cell.load(fromByteOffset: 8, as: UInt64.self)), count: count)
        default:
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }

    @inline(__always)
    static func escaped(_ cell: UnsafeRawPointer) -> Bool {
        cell.load(fromByteOffset: 1, as: UInt8.self) & escapedFlag != 0
    }

    @inline(__always)
    static func bits(_ cell: UnsafeRawPointer) -> UInt64 { cell.load(fromByteOffset: 8, as: UInt64.self) }

    /// The cell as a CEL value; text is appended to `text` and the value's span points there
    /// (origin `.variables`, the activation's extra text). nil for an unset cell.
    static func value(_ cell: UnsafeRawPointer, store: StateStore, text: ByteBuffer) -> Value? {
        let b = bits(cell)
        switch tag(cell) {
        case .unset: return nil
        case .null: return .null
        case .bool: return .bool(b != 0)
        case .int: return .int(Int64(bitPattern: b))
        case .uint: return .uint(b)
        case .double: return .double(Double(bitPattern: b))
        case .timestamp: return .timestamp(Int64(bitPattern: b))
        case .duration: return .duration(Int64(bitPattern: b))
        case .stringInline, .stringArena:
            let bytes = self.text(cell, store: store)
            let start = text.append(bytes)
            return .string(StringSpan(origin: .variables, escaped: escaped(cell), start: start, count: Int32(bytes.count)))
        case .jsonInline, .jsonArena:
            let bytes = self.text(cell, store: store)
            let start = text.append(bytes)
            let ref = ValueRef(origin: .variables, start: start, count: Int32(bytes.count))
            return bytes.first == UInt8(ascii: "{") ? .map(ref) : .list(ref)
        }
    }

    /// Appends the cell's JSON text (`null` for an unset cell).
    static func appendJSON(_ cell: UnsafeRawPointer, store: StateStore, to out: inout [UInt8]) {
        let b = bits(cell)
        switch tag(cell) {
        case .unset, .null: out += Array("null".utf8)
        case .bool: out += Array((b != 0 ? "true" : "false").utf8)
        case .int: out += Array(String(Int64(bitPattern: b)).utf8)
        case .uint: out += Array(String(b).utf8)
        case .double: JSONText.appendDouble(Double(bitPattern: b), to: &out)
        case .timestamp: out += Array(JSONText.quoted(CELTime.formatTimestamp(Int64(bitPattern: b))).utf8)
        case .duration: out += Array(JSONText.quoted(CELTime.formatDuration(Int64(bitPattern: b))).utf8)
        case .stringInline, .stringArena:
            let bytes = text(cell, store: store)
            out.append(UInt8(ascii: "\""))
            if escaped(cell) {
                out.append(contentsOf: bytes)
            } else {
                JSONText.appendEscaped(bytes: Array(bytes), to: &out)
            }
            out.append(UInt8(ascii: "\""))
        case .jsonInline, .jsonArena:
            out.append(contentsOf: text(cell, store: store))
        }
    }
}
