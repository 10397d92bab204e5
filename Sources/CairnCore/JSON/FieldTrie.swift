/// The interned field paths as a flat trie of key segments, for the scanner's hot path.
///
/// Built once from `FieldPaths`. Node 0 is the root (the empty path, the whole event); an
/// edge is one key segment leading to a child node. While scanning, every object that lies
/// on an interned path is at a trie node and its keys are compared, as bytes, against that
/// node's edges only; every other object is validated without any key comparison.
///
///     nodes:       | root | props | ... |    field id (or -1), edges, descendant fields
///     edges:       | "event" → 1 | "props" → 2 | ... |   key bytes in `keys`, child node
///     keys:        eventpropsprice...
///     descendants: field ids below a node (reset when the node's key repeats)
///     table:       per node with edges, an open-addressing hash table of its edges by key
///
/// A key is looked up among a node's edges by its `signature` (its first eight bytes and its
/// length) in the node's table: one probe for most keys, where comparing it with each edge
/// in turn cost a loop over all of them for every key that matches none.
///
/// Invariants: the edges of a node are contiguous; a node's `field` is the id of the path
/// that ends there or -1; `height` is the longest path's segment count. The buffers are
/// written only in `init` and freed in `deinit`, which is why the class may be shared.
final class FieldTrie: @unchecked Sendable {
    struct Node {
        var field: Int32
        var firstEdge: Int32
        var edgeCount: Int32
        var firstDescendant: Int32
        var descendantCount: Int32
        /// Where this node's hash table starts in `table`, and its size minus one (a power
        /// of two minus one; -1 without edges).
        var tableStart: Int32
        var tableMask: Int32
    }

    struct Edge {
        var keyStart: Int32
        var keyCount: Int32
        var node: Int32
        /// `signature(key)`.
        var signature: UInt64
    }

    let nodes: UnsafeMutablePointer<Node>
    let edges: UnsafeMutablePointer<Edge>
    let keys: UnsafeMutablePointer<UInt8>
    let descendants: UnsafeMutablePointer<Int32>
    /// The nodes' hash tables of edge indices, -1 for an empty entry.
    let table: UnsafeMutablePointer<Int32>
    let nodeCount: Int
    let height: Int

    init(_ paths: FieldPaths) {
        // Build a pointer-free tree first, then flatten it breadth first.
        var children: [[(key: [UInt8], node: Int)]] = [[]]
        var fieldOfNode: [Int32] = [-1]
        var pathNodes: [[Int]] = []  // for each field, the nodes along its path (root first)
        var height = 0
        for (id, path) in paths.paths.enumerated() {
            var node = 0
            var along = [0]
            for segment in path {
                let key = Array(segment.utf8)
                if let hit = children[node].first(where: { $0.key == key }) {
                    node = hit.node
                } else {
                    children.append([])
                    fieldOfNode.append(-1)
                    children[node].append((key, children.count - 1))
                    node = children.count - 1
                }
                along.append(node)
            }
            fieldOfNode[node] = Int32(id)
            pathNodes.append(along)
            height = max(height, path.count)
        }
        // Descendant fields of each node: every field whose path passes strictly below it.
        var below: [[Int32]] = Array(repeating: [], count: children.count)
        for (id, along) in pathNodes.enumerated() {
            for node in along.dropLast() { below[node].append(Int32(id)) }
        }
        // Flatten breadth first so that each node's edges are contiguous.
        var order = [0]
        var newIndex = Array(repeating: 0, count: children.count)
        var head = 0
        while head < order.count {
            let node = order[head]
            newIndex[node] = head
            head += 1
            for child in children[node] { order.append(child.node) }
        }
        var flatNodes: [Node] = []
        var flatEdges: [Edge] = []
        var flatKeys: [UInt8] = []
        var flatBelow: [Int32] = []
        var flatTable: [Int32] = []
        for node in order {
            let edges = children[node]
            var size = 0
            if !edges.isEmpty {
                size = 4
                while size < 2 * edges.count { size *= 2 }
            }
            flatNodes.append(Node(
                field: fieldOfNode[node], firstEdge: Int32(flatEdges.count),
                edgeCount: Int32(edges.count), firstDescendant: Int32(flatBelow.count),
                descendantCount: Int32(below[node].count), tableStart: Int32(flatTable.count),
                tableMask: Int32(size - 1)))
            flatBelow.append(contentsOf: below[node])
            let tableStart = flatTable.count
            flatTable.append(contentsOf: repeatElement(-1, count: size))
            for child in edges {
                let signature = child.key.withUnsafeBufferPointer { Self.signature($0.baseAddress, count: $0.count) }
                var h = Self.slot(signature) & (size - 1)
                while flatTable[tableStart + h] >= 0 { h = (h + 1) & (size - 1) }
                flatTable[tableStart + h] = Int32(flatEdges.count)
                flatEdges.append(Edge(
                    keyStart: Int32(flatKeys.count), keyCount: Int32(child.key.count),
                    node: Int32(newIndex[child.node]), signature: signature))
                flatKeys.append(contentsOf: child.key)
            }
        }
        self.nodes = Self.copy(flatNodes)
        self.edges = Self.copy(flatEdges)
        self.keys = Self.copy(flatKeys)
        self.descendants = Self.copy(flatBelow)
        self.table = Self.copy(flatTable)
        self.nodeCount = flatNodes.count
        self.height = height
    }

    deinit {
        nodes.deallocate()
        edges.deallocate()
        keys.deallocate()
        descendants.deallocate()
        table.deallocate()
    }

    /// A key's first eight bytes (zero-padded) with its length in the top byte's place mixed
    /// in: equal keys have equal signatures, and keys of up to 8 bytes are equal if and
    /// only if their signatures and lengths are.
    @inline(__always)
    static func signature(word: UInt64, count: Int) -> UInt64 {
        let bytes = count >= 8 ? word : word & ((1 << UInt64(truncatingIfNeeded: 8 &* count)) &- 1)
        return bytes ^ UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
    }

    /// `signature(word:count:)` of `count` bytes at `p`, read one at a time.
    static func signature(_ p: UnsafePointer<UInt8>?, count: Int) -> UInt64 {
        var word: UInt64 = 0
        var i = 0
        while i < min(count, 8) {
            word |= UInt64(p![i]) << UInt64(8 * i)
            i += 1
        }
        return signature(word: word, count: count)
    }

    /// The first table entry to probe for a signature (before masking).
    @inline(__always)
    static func slot(_ signature: UInt64) -> Int {
        Int(truncatingIfNeeded: (signature &* 0xC2B2_AE3D_27D4_EB4F) >> 40)
    }

    private static func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
        UnsafeMutableBufferPointer.copying(array).baseAddress!
    }
}
