extension JourneyEngine {
    // MARK: - Entering

    /// An event matched journey `j`'s entry: starts an instance if the re-entry rules allow.
    func enter(journey j: Int, customer: Customer, context: Activation) {
        // Through a pointer: a copy of the journey would retain and release each of its arrays
        // and programs (about 1,400 instructions per entry).
        let journey = UnsafePointer(journeys.baseAddress! + j)
        let t = context.eventTime
        // The key, as text (see `appendKey`); none (an error, a missing field, null) means no
        // entry.
        let keyStart = work.bytes.count
        var keyCount = 0
        if let key = hot[j].key {
            guard appendKey(key, context) else { return }
            keyCount = work.bytes.count - keyStart
            if keyCount == 0 || keyCount > StateStore.maxKeyLength {
                work.bytes.truncate(to: keyStart)
                return
            }
        }
        let keyHash: UInt64 = keyCount == 0 ? 0 : XXH64.hash(work.bytes.bytes(in: keyStart..<(keyStart + keyCount)), seed: 0)
        func refuse() {
            work.bytes.truncate(to: keyStart)
        }
        // Instances of this journey running for the customer: all of them, and those of this key.
        var inJourney = 0
        var running = 0
        for k in work.instances.indices where work.instances[k].journey == j && !work.instances[k].flags.contains(.ended) {
            inJourney += 1
            if work.instances[k].keyCount == keyCount && work.keyHash(k) == keyHash { running += 1 }
        }
        var memo = work.memoIndex(journeyHash: journey.pointee.nameHash, keyHash: keyHash)
        if let m = memo, !memoNeeded(work.memos[m], rules: journey.pointee.reentry, running: running > 0, at: t) {
            // A memory no rule needs any more is forgotten before it could count.
            work.memos.remove(at: m)
            memo = nil
        }
        switch journey.pointee.reentry.mode {
        case .never where memo != nil || running > 0: return refuse()
        case .afterExit where running > 0: return refuse()
        default: break
        }
        if inJourney >= Self.instanceLimit {
            refusedEntries += 1
            return refuse()
        }
        if let m = memo {
            if let cooldown = journey.pointee.reentry.cooldown,
               t.subtractingReportingOverflow(work.memos[m].lastEntry).partialValue < cooldown {
                return refuse()
            }
            if let max = journey.pointee.reentry.max, Int(work.memos[m].entries) >= max { return refuse() }
        }
        let number = (memo.map { work.memos[$0].entries } ?? 0) &+ 1
        let rules = journey.pointee.reentry
        if let m = memo {
            work.memos[m].entries = number
            work.memos[m].lastEntry = t
        } else if rules.mode != .afterExit || rules.cooldown != nil || rules.max != nil {
            // Under `after_exit` alone no rule reads the memory: a running instance refuses the
            // entry by itself, and the memory would be forgotten when it ends. Not writing it
            // keeps a waiting instance at 48 bytes (docs/state-format.md).
            work.memos.append(CustomerJourneys.Memo(journeyHash: journey.pointee.nameHash, entries: number, keyHash: keyHash,
                                                    lastEntry: t))
        }
        let contextStart = work.bytes.count
        capture(journey: j, context)
        work.instances.append(CustomerJourneys.Instance(
            journeyHash: journey.pointee.nameHash, stepHash: journey.pointee.steps[0].nameHash, entries: number, variantHash: 0,
            wake: .max, enteredAt: t, journey: j, step: 0, flags: [],
            keyStart: keyStart, keyCount: keyCount, contextStart: contextStart,
            contextCount: work.bytes.count - contextStart, keyHash: keyHash))
        work.changed = true
        let i = work.instances.count - 1
        records.enter(self, instance: i)
        run(instance: i, from: 0, customer: customer, context: context)
    }

    /// Appends the key's text to `work.bytes`: what CEL's `string()` makes of the value (a
    /// number from the event, `7`, gives `"7"`), or the JSON text of a list or map; false when
    /// the key has no value.
    private func appendKey(_ key: Unmanaged<ProgramStorage>, _ activation: Activation) -> Bool {
        key._withUnsafeGuaranteedRef { key in
            let value = key.evaluate(activation, scratch: scratch)
            switch value {
            case .error, .null:
                return false
            default:
                return key.withEvaluator(activation, scratch) { evaluator in
                    if case .string(let span) = evaluator.toString(value) {
                        evaluator.withDecoded(span) { _ = work.bytes.append($0) }
                        return true
                    }
                    var text: [UInt8] = []
                    return evaluator.render(value, into: work.bytes, scratch: &text)
                }
            }
        }
    }

    /// Whether a re-entry memory must be kept at `time`: an instance of it runs, or a rule
    /// still depends on it (`never`, `max`, a cooldown not yet passed).
    func memoNeeded(_ memo: CustomerJourneys.Memo, rules: CompiledPipeline.Reentry, running: Bool, at time: Int64) -> Bool {
        if running || rules.mode == .never || rules.max != nil { return true }
        if let cooldown = rules.cooldown, time.subtractingReportingOverflow(memo.lastEntry).partialValue < cooldown {
            return true
        }
        return false
    }

    /// Appends to `work.bytes` the captured event of journey `j`: a JSON object holding the
    /// event's values at the paths of its capture plan (see `CaptureTable`).
    private func capture(journey j: Int, _ activation: Activation) {
        let table = captures
        let plan = table.plans[j]
        let line = activation.line
        if plan.whole {
            work.bytes.append(line)
            return
        }
        guard plan.count > 0 else { return }
        let first = Int(plan.first)
        let path = table.path.baseAddress!
        // The components of the objects open so far (as indices into the previous path).
        var open = 0
        var previous = -1
        var needsComma = false
        work.bytes.append(UInt8(ascii: "{"))
        for k in 0..<Int(plan.count) {
            let entry = table.entries[first + k]
            let value = activation.fields[Int(entry.field)]
            guard value.isPresent else { continue }
            let components = path + Int(entry.pathStart)
            let count = Int(entry.pathCount)
            var common = 0
            if previous >= 0 {
                let last = path + Int(table.entries[first + previous].pathStart)
                while common < open, common < count - 1, last[common] == components[common] { common += 1 }
            }
            while open > common {
                work.bytes.append(UInt8(ascii: "}"))
                open -= 1
                needsComma = true
            }
            while open < count - 1 {
                if needsComma { work.bytes.append(UInt8(ascii: ",")) }
                work.bytes.append(table.name(components[open]))
                work.bytes.append(UInt8(ascii: "{"))
                open += 1
                needsComma = false
            }
            if needsComma { work.bytes.append(UInt8(ascii: ",")) }
            work.bytes.append(table.name(components[count - 1]))
            let quoted = value.kind == .string ? 1 : 0
            work.bytes.append(UnsafeRawBufferPointer(rebasing: line[(Int(value.start) - quoted)..<(Int(value.end) + quoted)]))
            needsComma = true
            previous = k
        }
        while open > 0 {
            work.bytes.append(UInt8(ascii: "}"))
            open -= 1
        }
        work.bytes.append(UInt8(ascii: "}"))
    }

    // MARK: - Running steps

    /// Runs instance `i` from step `s` until it waits or ends.
    func run(instance i: Int, from start: Int, customer: Customer, context: Activation) {
        let j = work.instances[i].journey
        let steps = journeys[j].steps
        let t = context.eventTime
        var s = start
        work.changed = true
        while true {
            work.instances[i].step = s
            work.instances[i].stepHash = steps[s].nameHash
            switch steps[s].op {
            case .send(let send):
                switch decide(send, instance: i, context: context) {
                case .wait: return
                case .goOn: s = send.next
                }
            case .wait(let nanos, _):
                let (wake, overflow) = t.addingReportingOverflow(nanos)
                park(i, until: overflow ? .max - 1 : wake)
                return
            case .waitUntil(let minute, let days, let next):
                let zone = customerZone(pipeline.timezone, context)
                guard let wake = LocalTime.next(minute: minute, days: days.rawValue, atOrAfter: t, in: zone), wake > t else {
                    s = next
                    continue
                }
                park(i, until: wake)
                return
            case .waitFor(_, let timeout, _, _):
                let (wake, overflow) = t.addingReportingOverflow(timeout)
                park(i, until: overflow ? .max - 1 : wake)
                return
            case .branch(let arms, let otherwise):
                let activation = journeyActivation(context, instance: i)
                s = otherwise
                for arm in arms where arm.when.matches(activation, scratch: scratch) {
                    s = arm.target
                    break
                }
            case .split(let split):
                var mixed: (UInt64, UInt64) = (customer.hash.littleEndian, work.keyHash(i).littleEndian)
                let bucket = withUnsafeBytes(of: &mixed) { XXH64.hash($0, seed: split.salt) } % split.total
                var chosen = split.variants.count - 1
                for (v, variant) in split.variants.enumerated() where bucket < variant.upper {
                    chosen = v
                    break
                }
                let variant = split.variants[chosen]
                work.instances[i].variantHash = variant.nameHash
                if variant.holdout { work.instances[i].flags.insert(.holdout) }
                s = variant.target
            case .exit(let reason):
                end(instance: i, reason: reason, time: t)
                return
            case .complete:
                end(instance: i, reason: "completed", time: t)
                return
            }
        }
    }

    /// Instance `i` waits at its current step until `wake`.
    private func park(_ i: Int, until wake: Int64) {
        work.instances[i].wake = wake
        work.instances[i].flags.insert(.scheduled)
        work.changed = true
    }

    /// Instance `i` leaves its journey.
    func end(instance i: Int, reason: String, time: Int64) {
        work.instances[i].flags.insert(.ended)
        work.instances[i].wake = .max
        work.changed = true
        if let m = work.memoIndex(journeyHash: work.instances[i].journeyHash, keyHash: work.keyHash(i)) {
            // Forgotten at once when no rule needs it, so that an entry in this same moment
            // counts as it would in a later one.
            let stillRunning = work.instances.indices.contains {
                $0 != i && !work.instances[$0].flags.contains(.ended)
                    && work.instances[$0].journeyHash == work.instances[i].journeyHash && work.keyHash($0) == work.keyHash(i)
            }
            if !memoNeeded(work.memos[m], rules: journeys[work.instances[i].journey].reentry, running: stillRunning, at: time) {
                work.memos.remove(at: m)
            }
        }
        records.exit(self, instance: i, reason: reason)
    }

    // MARK: - Events and timers for running instances

    /// An event of the customer reaches running instance `i`: its goal, its exit condition, then
    /// its wait (a `wait_for` that the event matches; a send that `hold` held).
    func onEvent(instance i: Int, customer: Customer, context: Activation) {
        let j = work.instances[i].journey
        let rules = hot[j]
        let t = context.eventTime
        // `journey.*` is bound only for conditions that read it.
        var bound: Activation?
        @inline(__always) func activation(_ condition: Condition) -> Activation {
            guard condition.readsJourney else { return context }
            if let bound { return bound }
            let made = journeyActivation(context, instance: i)
            bound = made
            return made
        }
        if let goal = rules.goal, !work.instances[i].flags.contains(.goalReached),
           t.subtractingReportingOverflow(work.instances[i].enteredAt).partialValue < rules.goalWithin,
           goal.matches(activation(goal), scratch) {
            records.goal(self, instance: i)
            if !rules.goalContinues {
                end(instance: i, reason: "goal", time: t)
                return
            }
            work.instances[i].flags.insert(.goalReached)
            work.changed = true
            bound = nil
        }
        if let exit = rules.exit, exit.matches(activation(exit), scratch) {
            end(instance: i, reason: "exit", time: t)
            return
        }
        let step = work.instances[i].step
        if let event = waitForEvents[stepBase[j] + step] {
            guard event.matches(activation(event), scratch) else { return }
            guard case .waitFor(_, _, let then, _) = journeys[j].steps[step].op else { return }
            // The event that ended the wait is the one later steps read.
            let contextStart = work.bytes.count
            capture(journey: j, context)
            work.instances[i].contextStart = contextStart
            work.instances[i].contextCount = work.bytes.count - contextStart
            work.instances[i].contextInBlob = false
            work.instances[i].wake = .max
            run(instance: i, from: then, customer: customer, context: context)
            return
        }
        guard work.instances[i].flags.contains(.held), let hold = rules.hold,
              case .send(let send) = journeys[j].steps[step].op,
              !hold.matches(activation(hold), scratch) else { return }
        switch decide(send, instance: i, context: context) {
        case .wait: return
        case .goOn: run(instance: i, from: send.next, customer: customer, context: context)
        }
    }

    /// Instance `i`'s wake time has come (`context` is the timer's, without an event).
    func onTimer(instance i: Int, customer: Customer, context: inout Activation) {
        loadContext(of: i, into: &context)
        let j = work.instances[i].journey
        let step = work.instances[i].step
        work.instances[i].wake = .max
        work.changed = true
        switch journeys[j].steps[step].op {
        case .wait(_, let next), .waitUntil(_, _, let next):
            run(instance: i, from: next, customer: customer, context: context)
        case .waitFor(_, _, _, let otherwise):
            run(instance: i, from: otherwise, customer: customer, context: context)
        case .send(let send):
            switch decide(send, instance: i, context: context, timerDue: true) {
            case .wait: return
            case .goOn: run(instance: i, from: send.next, customer: customer, context: context)
            }
        case .branch, .split, .exit, .complete:
            // Instances wait only at waits and sends; a state written otherwise moves on.
            run(instance: i, from: step, customer: customer, context: context)
        }
    }

    // MARK: - Sends

    enum SendOutcome { case wait, goOn }

    /// Applies the channel's and journey's policies to a send of instance `i`, in order:
    /// holdout, consent, hold, quiet hours; the cap is decided when the moment ends
    /// (`RecordWriter.endMoment`), by priority.
    ///
    /// - Parameter timerDue: the instance's wake time has come (the hold's maximum, or the end
    ///   of quiet hours).
    func decide(_ send: CompiledPipeline.Send, instance i: Int, context: Activation,
                timerDue: Bool = false) -> SendOutcome {
        let rules = hot[work.instances[i].journey]
        let channel = pipeline.channels[send.channel]
        let t = context.eventTime
        let flags = work.instances[i].flags
        work.instances[i].flags.subtract([.held, .deferred])
        var why = RecordWriter.SendExplain()
        if flags.contains(.holdout) {
            why.holdout = true
            records.send(self, instance: i, send: send, decision: .skip("holdout"), activation: context,
                         why: why)
            return .goOn
        }
        if let consent = channel.consent {
            why.consent = consent.matches(context, scratch: scratch)
        }
        if why.consent == false {
            records.send(self, instance: i, send: send, decision: .skip("no_consent"),
                             activation: context, why: why)
            return .goOn
        }
        if let hold = rules.hold {
            why.hold = hold.matches(hold.readsJourney ? journeyActivation(context, instance: i)
                                        : context, scratch)
        }
        if why.hold == true {
            switch rules.holdMode {
            case .skip:
                records.send(self, instance: i, send: send, decision: .skip("hold"),
                             activation: context, why: why)
                return .goOn
            case .wait:
                if flags.contains(.held) {
                    let deadline = work.instances[i].wake
                    if timerDue || deadline <= t {
                        records.send(self, instance: i, send: send, decision: .skip("hold"),
                             activation: context, why: why)
                        return .goOn
                    }
                    // Still held, until the same deadline.
                    work.instances[i].flags.insert(.held)
                    return .wait
                }
                let (deadline, overflow) = t.addingReportingOverflow(rules.holdMax)
                work.instances[i].flags.insert(.held)
                park(i, until: overflow ? .max - 1 : deadline)
                return .wait
            }
        }
        if let quiet = channel.quiet {
            let zone = customerZone(channel.timezone, context)
            if records.explains {
                why.zone = zone.name
                why.local = LocalTime.wallClock(at: t, in: zone).minute
            }
            if let end = LocalTime.quietEnd(start: quiet.start, end: quiet.end, at: t, in: zone) {
                switch quiet.mode {
                case .drop:
                    records.send(self, instance: i, send: send, decision: .skip("quiet_hours"),
                             activation: context, why: why)
                    return .goOn
                case .defer:
                    work.instances[i].flags.insert(.deferred)
                    park(i, until: end)
                    return .wait
                }
            }
        }
        if let cap = channel.cap {
            var windowStart: Int64
            switch cap.period {
            case .rolling(let nanos):
                windowStart = t.subtractingReportingOverflow(nanos).partialValue &+ 1
                why.capRolling = true
            case .calendarDays(let days):
                let zone = customerZone(channel.timezone, context)
                if records.explains { why.zone = zone.name }
                windowStart = LocalTime.calendarStart(days: days, at: t, in: zone)
            }
            why.capSince = windowStart
            records.send(self, instance: i, send: send, decision: .capped(windowStart: windowStart),
                         activation: context, why: why)
        } else {
            records.send(self, instance: i, send: send, decision: .action, activation: context, why: why)
        }
        return .goOn
    }

    /// Sends of channel `c` in the customer's log at or after `windowStart`.
    func sentSince(_ windowStart: Int64, channel c: Int) -> Int {
        guard let l = work.logIndex(channelHash: channelHashes[c]) else { return 0 }
        let log = work.logs[l]
        var n = 0
        for k in 0..<log.count where work.times[log.start + k] >= windowStart { n += 1 }
        return n
    }

    /// Adds a send at `time` to channel `c`'s log.
    func logSend(_ time: Int64, channel c: Int) {
        let hash = channelHashes[c]
        let start = work.times.count
        if let l = work.logIndex(channelHash: hash) {
            let log = work.logs[l]
            for k in 0..<log.count { work.times.append(work.times[log.start + k]) }
            work.times.append(time)
            work.logs[l] = CustomerJourneys.SendLog(channelHash: hash, start: start, count: log.count + 1)
        } else {
            work.times.append(time)
            work.logs.append(CustomerJourneys.SendLog(channelHash: hash, start: start, count: 1))
        }
        work.changed = true
    }

    // MARK: - What expressions see

    /// `activation` with `journey.*` bound to instance `i`.
    func journeyActivation(_ activation: Activation, instance i: Int) -> Activation {
        let text = profile?.text ?? ownText
        text.truncate(to: textBase)
        let instance = work.instances[i]
        if instance.keyCount > 0 {
            let start = work.withKey(i) { text.append($0) }
            journeyValues[0] = .string(StringSpan(origin: .variables, escaped: false, start: start, count: Int32(instance.keyCount)))
        } else {
            journeyValues[0] = .null
        }
        journeyValues[1] = .timestamp(instance.enteredAt)
        if instance.variantHash != 0, let name = variantName(journey: instance.journey, hash: instance.variantHash) {
            let start = name.withUnsafeBytes { text.append($0) }
            journeyValues[2] = .string(StringSpan(origin: .variables, escaped: false, start: start, count: Int32(name.count)))
        } else {
            journeyValues[2] = .null
        }
        let step = stepNames[instance.journey][instance.step]
        let stepStart = step.withUnsafeBytes { text.append($0) }
        journeyValues[3] = .string(StringSpan(origin: .variables, escaped: false, start: stepStart, count: Int32(step.count)))
        journeyValues[4] = .int(Int64(instance.entries))
        var bound = activation
        bound.variableText = text.bytes
        bound.journeyValues = UnsafePointer(journeyValues)
        return bound
    }

    /// The name of a variant of journey `j` by its hash.
    func variantName(journey j: Int, hash: UInt32) -> [UInt8]? {
        variantNames[j][hash]
    }

    /// The zone `timezone` names for this customer, else the default zone.
    func customerZone(_ timezone: Program?, _ activation: Activation) -> CELTimeZone {
        guard let timezone else { return pipeline.defaultZone }
        let value = timezone.evaluate(activation, scratch: scratch)
        guard case .string(let span) = value else { return pipeline.defaultZone }
        return timezone.withEvaluator(activation, scratch) { evaluator in
            evaluator.withDecoded(span) { zones.zone(named: $0) }
        } ?? pipeline.defaultZone
    }

    /// Points `context` at instance `i`'s captured event, scanned.
    func loadContext(of i: Int, into context: inout Activation) {
        let instance = work.instances[i]
        let count = max(2, instance.contextCount)
        if contextLine.count < count {
            contextLine.deallocate()
            contextLine = .allocate(byteCount: max(count, 2 * contextLine.count), alignment: 16)
        }
        if instance.contextCount > 0 {
            work.withContext(i) { contextLine.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        } else {
            contextLine[0] = UInt8(ascii: "{")
            contextLine[1] = UInt8(ascii: "}")
        }
        let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(contextLine)[0..<count])
        _ = contextScanner.scan(line, into: contextValues)
        context.line = line
        context.fields = UnsafePointer(contextValues)
        context.typeNumber = EventTypes.unnumbered
        context.typeField = -1
        context.typeText = UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
