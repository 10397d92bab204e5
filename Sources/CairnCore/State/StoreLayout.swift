/// What the caller keeps per customer, and the identity of that layout.
///
/// The store is told the payload size; the meaning of the payload bytes belongs to the caller.
/// `fingerprint` identifies the layout: a directory written under one fingerprint refuses to
/// open under another (`StateError.layoutChanged`). `description` (JSON text, by convention)
/// is stored with every checkpoint and returned on a mismatch so the caller can say what changed.
public struct StoreLayout: Sendable, Equatable {
    /// Bytes per customer; a multiple of 8, may be 0.
    public var payloadSize: Int
    /// Identity of the layout.
    public var fingerprint: UInt64
    /// Opaque to the store: stored and returned.
    public var description: [UInt8]

    public init(payloadSize: Int, fingerprint: UInt64, description: [UInt8]) {
        self.payloadSize = payloadSize
        self.fingerprint = fingerprint
        self.description = description
    }
}
