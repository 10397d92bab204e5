extension UnsafeMutableBufferPointer {
    /// A heap copy of `array`, for tables built once and then read on the hot path without
    /// reference counting. Room for at least one element is allocated, so that the base
    /// address exists even for an empty array; the owner deallocates it (deinitializing
    /// first when the elements need it).
    static func copying(_ array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(array.count, 1))
        _ = buffer.initialize(from: array)
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<array.count])
    }
}
