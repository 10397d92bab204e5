/// What each journey's instances keep of the event that entered them (`Journey.capture`),
/// laid out flat for `JourneyEngine.capture`, so that entering a journey reads it without
/// retaining anything:
///
///     plans:   per journey: its first entry and entry count, or that it keeps the whole event
///     entries: per kept path: its field, and its components (as name ids) in `path`
///     path:    name ids, entry after entry
///     names:   per name id: the quoted name and a colon, as a span of `bytes`
///
/// A journey's entries are its paths sorted by their components, so that paths sharing a
/// prefix are adjacent, without paths inside another (the whole event alone when a step
/// reads `event` itself). Equal names have one id, so components compare as ids.
///
/// The buffers belong to the owner, which calls `deallocate()` once, in its deinit.
struct CaptureTable {
    struct Plan {
        var first: Int32
        var count: Int32
        var whole: Bool
    }

    struct Entry {
        var field: Int32
        var pathStart: Int32
        var pathCount: Int32
    }

    let plans: UnsafeMutableBufferPointer<Plan>
    let entries: UnsafeMutableBufferPointer<Entry>
    let path: UnsafeMutableBufferPointer<Int32>
    let names: UnsafeMutableBufferPointer<(start: Int32, count: Int32)>
    let bytes: UnsafeMutableRawBufferPointer

    init(_ pipeline: CompiledPipeline) {
        let paths = pipeline.fields.paths
        var plans: [Plan] = []
        var entries: [Entry] = []
        var path: [Int32] = []
        var names: [(start: Int32, count: Int32)] = []
        var bytes: [UInt8] = []
        var ids: [String: Int32] = [:]
        for journey in pipeline.journeys {
            let sorted = journey.capture.sorted { paths[$0].lexicographicallyPrecedes(paths[$1]) }
            var kept: [FieldID] = []
            for id in sorted {
                if let last = kept.last, paths[id].starts(with: paths[last]) { continue }
                kept.append(id)
            }
            let whole = !kept.isEmpty && paths[kept[0]].isEmpty
            plans.append(Plan(first: Int32(entries.count), count: whole ? 0 : Int32(kept.count), whole: whole))
            if whole { continue }
            for id in kept {
                let start = path.count
                for component in paths[id] {
                    if let known = ids[component] {
                        path.append(known)
                        continue
                    }
                    let text = Array(JSONText.quoted(component).utf8) + [UInt8(ascii: ":")]
                    ids[component] = Int32(names.count)
                    path.append(Int32(names.count))
                    names.append((Int32(bytes.count), Int32(text.count)))
                    bytes += text
                }
                entries.append(Entry(field: Int32(id), pathStart: Int32(start), pathCount: Int32(path.count - start)))
            }
        }
        self.plans = .copying(plans)
        self.entries = .copying(entries)
        self.path = .copying(path)
        self.names = .copying(names)
        self.bytes = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer.copying(bytes))
    }

    /// The bytes of name `id`: its quoted name and a colon.
    @inline(__always)
    func name(_ id: Int32) -> UnsafeRawBufferPointer {
        let span = names[Int(id)]
        return UnsafeRawBufferPointer(rebasing: bytes[Int(span.start)..<Int(span.start + span.count)])
    }

    func deallocate() {
        plans.deallocate()
        entries.deallocate()
        path.deallocate()
        names.deallocate()
        bytes.deallocate()
    }
}
