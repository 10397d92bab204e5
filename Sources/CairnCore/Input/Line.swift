/// One non-blank line of an input, as a view into the framer's buffer.
///
/// `bytes` excludes the LF and a CR directly before it. It is valid only until the next call
/// to `LineFramer.next()`, which may move or overwrite the buffer.
public struct Line {
    public var bytes: UnsafeRawBufferPointer
    /// 1-based physical line number in this input; blank lines count.
    public var number: Int
    /// Byte offset of the line's first byte in the (decompressed) input, a leading BOM included.
    public var offset: Int64

    public init(bytes: UnsafeRawBufferPointer, number: Int, offset: Int64) {
        self.bytes = bytes
        self.number = number
        self.offset = offset
    }
}
