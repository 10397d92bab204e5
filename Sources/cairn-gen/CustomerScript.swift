/// One customer's story in the `journeys` scenario, written as a list of events in no
/// particular order (``JourneyScenario`` sorts them with everyone else's).
///
/// Each customer follows one persona, then may change consent and may ask for erasure:
///
///     persona          share  story
///     computer buyer    20 %  buys a computer; often a ticket (repair or order-…) 1-6 days
///                             later, resolved hours to days later; often accessories after
///     newcomer          18 %  signup, app_open and feature_used over weeks (a few features or
///                             many); some subscription_started
///     cart hesitant     18 %  carts, mostly abandoned; some come back days later and check
///                             out and buy the same cart_id
///     lapsing           15 %  buys in the first weeks, then nothing for 45+ days; some come
///                             back and buy again
///     omnichannel       12 %  buys, then opens a ticket and, 1 to 6 hours later, the same
///                             topic on another channel (sometimes again a day later)
///     regular           17 %  a few visits over the months, some with a purchase, some
///                             leaving a cart
///
/// Customers who are new in the period (all newcomers, a quarter of the others but lapsing
/// ones) start with `signup`. Times are milliseconds; causal order (a cart before its
/// purchase, a ticket before its resolution) holds by construction, each follow-up being
/// a positive delay after what it follows.
struct CustomerScript {
    typealias Event = JourneyScenario.Event
    typealias Item = JourneyScenario.Item
    typealias Kind = JourneyScenario.Kind
    typealias Page = JourneyScenario.Page
    typealias Topic = JourneyScenario.Topic
    typealias Category = JourneyCatalog.Category

    private enum Persona { case computerBuyer, newcomer, cartHesitant, lapsing, omnichannel, regular }

    static let second: Int64 = 1000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    let customer: Int32
    let catalog: JourneyCatalog
    let startMs: Int64
    let days: Int
    let zone: Int32
    let os: Int32
    private var rng: Xoshiro256
    private(set) var events: [Event] = []
    private var carts: Int32 = 0
    private var orders: Int32 = 0
    private var tickets: Int32 = 0
    /// A `signup` is due before the first visit.
    private var signupDue = false

    init(customer: Int32, seed: UInt64, catalog: JourneyCatalog, startMs: Int64, days: Int) {
        self.customer = customer
        self.catalog = catalog
        self.startMs = startMs
        self.days = days
        var rng = Xoshiro256(seed: seed)
        var z = rng.below(catalog.zoneWeights.reduce(0, +))
        var k = 0
        while z >= catalog.zoneWeights[k] { z -= catalog.zoneWeights[k]; k += 1 }
        zone = Int32(k)
        os = Int32(rng.below(2))
        self.rng = rng
    }

    /// Writes the whole story into ``events``.
    mutating func write() {
        let r = rng.perMille()
        let persona: Persona = r < 200 ? .computerBuyer : r < 380 ? .newcomer : r < 560 ? .cartHesitant
            : r < 710 ? .lapsing : r < 830 ? .omnichannel : .regular
        signupDue = persona != .newcomer && persona != .lapsing && rng.perMille() < 250
        switch persona {
        case .computerBuyer: computerBuyer()
        case .newcomer: newcomer()
        case .cartHesitant: cartHesitant()
        case .lapsing: lapsing()
        case .omnichannel: omnichannel()
        case .regular: regular()
        }
        // Lapsing customers stay silent through their gap, consent changes included.
        if persona != .lapsing, rng.perMille() < 200 { consent() }
        if rng.perMille() < 15 { erasure() }
    }

    // MARK: Personas

    private mutating func computerBuyer() {
        var t = visit(day: randomDay(0, days - 20))
        if chance(400) {
            // Researches computers first, buys one to four days later.
            view(category: .computers, at: t)
            t = later(t, 20 * Self.second, 3 * Self.minute)
            view(product: pick(.computers), at: t)
            t = daytime(later(t, Self.day, 4 * Self.day))
        }
        let computer = pick(.computers)
        let order: Int32
        if chance(80) {
            (order, t) = buyNow(computer, at: t)
        } else {
            var products = [computer]
            if chance(300) { products.append(pick(.accessories)) }
            (order, t) = buy(products, at: t)
        }
        if chance(550) {
            let topic: Topic = chance(500) ? .repair : .order
            ticket(at: later(t, Self.day, 6 * Self.day), topic: topic, channel: Int32(rng.below(4)), order: order)
        }
        if chance(600) {
            var ta = daytime(later(t, Self.day, 10 * Self.day))
            view(category: .accessories, at: ta)
            for _ in 0..<(1 + rng.below(2)) {
                ta = later(ta, 20 * Self.second, 2 * Self.minute)
                view(product: pick(.accessories), at: ta)
            }
            if chance(500) { _ = buy([pick(.accessories)], at: later(ta, 30 * Self.second, 5 * Self.minute)) }
        }
    }

    private mutating func newcomer() {
        let firstDay = randomDay(0, days - 28)
        var t = visit(day: firstDay)
        let source: Int32 = chance(500) ? 0 : chance(600) ? 1 : 2
        emit(t, .signup, a: source, d: zone)
        t = later(t, Self.minute, 10 * Self.minute)
        emit(t, .appOpen, a: os, d: zone)
        if chance(500) { emit(later(t, 5 * Self.second, Self.minute), .consentChanged, a: 1, b: 1) }
        // A few features or many, drawn without repetition.
        let many = chance(550)
        var features: [Int32] = [0, 1, 2, 3, 4, 5]
        for i in stride(from: features.count - 1, to: 0, by: -1) { features.swapAt(i, rng.below(i + 1)) }
        features.removeLast(6 - (many ? 3 + rng.below(4) : 1 + rng.below(2)))
        t = later(t, 10 * Self.second, 2 * Self.minute)
        emit(t, .featureUsed, a: features[0])
        let activeDays = many ? 6 + rng.below(10) : 2 + rng.below(5)
        let spanDays = 7 * (2 + rng.below(7))
        let subscribeAt = chance(many ? 400 : 80) ? activeDays / 2 + rng.below(activeDays - activeDays / 2) : -1
        var day = firstDay
        for i in 0..<activeDays {
            day += 1 + rng.below(max(1, 2 * spanDays / activeDays))
            t = max(visit(day: day), later(t, 30 * Self.minute, 2 * Self.hour))
            emit(t, .appOpen, a: os, d: zone)
            for _ in 0..<(1 + rng.below(3)) {
                t = later(t, 20 * Self.second, 5 * Self.minute)
                emit(t, .featureUsed, a: features[rng.below(features.count)])
            }
            if i == subscribeAt {
                t = later(t, Self.minute, 10 * Self.minute)
                emit(t, .subscriptionStarted, a: chance(800) ? 999 : 9_900)
            }
        }
        if chance(300) {
            t = daytime(later(t, Self.day, 10 * Self.day))
            _ = buy([pick(chance(500) ? .home : .accessories)], at: t)
        }
    }

    private mutating func cartHesitant() {
        var t = visit(day: randomDay(0, days - 10))
        for _ in 0..<(1 + rng.below(4)) {
            var products: [Int] = []
            for _ in 0..<(1 + rng.below(3)) { products.append(pick(anyCategory(computers: 150))) }
            let cart: Int32
            var items: [Item]
            (cart, items, t) = fillCart(products, at: t)
            let r = rng.perMille()
            if r < 250 {
                // Buys at once.
                t = checkout(cart, items, at: later(t, 30 * Self.second, 3 * Self.minute))
                t = purchase(cart: cart, items, at: later(t, Self.minute, 5 * Self.minute)).t
            } else if r < 400 {
                // Starts checkout and leaves; half come back and buy the same cart.
                t = checkout(cart, items, at: later(t, 30 * Self.second, 3 * Self.minute))
                if chance(500) {
                    t = later(t, 3 * Self.hour, 2 * Self.day)
                    view(home: t)
                    t = checkout(cart, items, at: later(t, 20 * Self.second, 2 * Self.minute))
                    t = purchase(cart: cart, items, at: later(t, Self.minute, 5 * Self.minute)).t
                }
            } else if chance(450) {
                // Abandons the cart, comes back 2 hours to 3 days later.
                t = later(t, 2 * Self.hour, 3 * Self.day)
                view(home: t)
                if chance(250) {
                    let extra = pick(anyCategory(computers: 0))
                    t = later(t, 20 * Self.second, 2 * Self.minute)
                    view(product: extra, at: t)
                    t = later(t, 10 * Self.second, Self.minute)
                    emit(t, .addToCart, a: cart, b: Int32(extra), c: 1)
                    items.append(Item(product: extra, qty: 1))
                }
                t = checkout(cart, items, at: later(t, 20 * Self.second, 2 * Self.minute))
                if chance(800) { t = purchase(cart: cart, items, at: later(t, Self.minute, 5 * Self.minute)).t }
            }
            t = daytime(later(t, 5 * Self.day, 25 * Self.day))
        }
    }

    private mutating func lapsing() {
        var t = visit(day: randomDay(0, 8))
        let purchases = 2 + rng.below(3)
        for i in 0..<purchases {
            t = buy([pick(anyCategory(computers: 50))], at: t).t
            if i < purchases - 1 { t = daytime(later(t, 2 * Self.day, 7 * Self.day)) }
        }
        if chance(450) {
            // Comes back 46 to 76 days after the last purchase.
            t = daytime(later(t, 46 * Self.day, 76 * Self.day))
            if chance(500) {
                emit(t, .appOpen, a: os, d: zone)
                t = later(t, 10 * Self.second, Self.minute)
            }
            view(home: t)
            _ = buy([pick(anyCategory(computers: 100))], at: later(t, 20 * Self.second, 3 * Self.minute))
        }
    }

    private mutating func omnichannel() {
        var t = visit(day: randomDay(0, days - 15))
        let order: Int32
        (order, t) = buy([pick(anyCategory(computers: 100))], at: t)
        let r = rng.perMille()
        let topic: Topic = r < 400 ? .order : r < 800 ? .delivery : .account
        let about: Int32 = topic == .account ? -1 : order
        let first = daytime(later(t, Self.day, 8 * Self.day))
        let channel = Int32(rng.below(4))
        ticket(at: first, topic: topic, channel: channel, order: about)
        guard chance(800) else { return }
        // The same topic on another channel 1 to 6 hours later (exclusive).
        let second = first + Self.hour + Int64(rng.below(Int(5 * Self.hour)))
        let other = (channel + 1 + Int32(rng.below(3))) % 4
        ticket(at: second, topic: topic, channel: other, order: about)
        if chance(350) {
            // And again about a day after the first.
            let third = first + Self.day + Int64(rng.below(Int(6 * Self.hour)))
            ticket(at: third, topic: topic, channel: Int32(rng.below(4)), order: about)
        }
    }

    private mutating func regular() {
        var t = visit(day: randomDay(0, days - 5))
        for _ in 0..<(1 + rng.below(4)) {
            if chance(300) {
                emit(t, .appOpen, a: os, d: zone)
                t = later(t, 10 * Self.second, Self.minute)
            }
            view(home: t)
            var seen: [Int] = []
            for _ in 0..<(1 + rng.below(3)) {
                let p = pick(anyCategory(computers: 100))
                seen.append(p)
                t = later(t, 20 * Self.second, 3 * Self.minute)
                view(product: p, at: t)
            }
            if chance(450) {
                let order: Int32
                (order, t) = buy([seen[rng.below(seen.count)]], at: later(t, 30 * Self.second, 5 * Self.minute))
                if chance(80) {
                    ticket(at: later(t, 2 * Self.day, 9 * Self.day), topic: .delivery,
                           channel: Int32(rng.below(4)), order: order)
                }
            } else if chance(80) {
                t = buyNow(seen[0], at: later(t, 30 * Self.second, 2 * Self.minute)).t
            } else if chance(800) {
                // Puts something in a cart and leaves it there.
                t = fillCart([seen[rng.below(seen.count)]], at: later(t, 30 * Self.second, 3 * Self.minute)).t
            }
            t = daytime(later(t, 3 * Self.day, 30 * Self.day))
        }
    }

    // MARK: Consent and erasure

    /// Opts out of one channel somewhere in the story; some opt back in later, some opt in
    /// to another channel.
    private mutating func consent() {
        guard let first = events.map(\.ms).min(), let last = events.map(\.ms).max() else { return }
        let t = first + Int64(rng.below(Int(max(1, last - first)))) + Self.minute
        let channel = Int32(rng.below(3))
        emit(t, .consentChanged, a: channel, b: 0)
        if chance(400) { emit(later(t, 5 * Self.day, 40 * Self.day), .consentChanged, a: channel, b: 1) }
        if chance(200) {
            emit(later(t, Self.hour, 20 * Self.day), .consentChanged, a: (channel + 1 + Int32(rng.below(2))) % 3, b: 1)
        }
    }

    /// Asks for erasure 1 to 10 days after everything else.
    private mutating func erasure() {
        guard let last = events.map(\.ms).max() else { return }
        emit(later(last, Self.day, 10 * Self.day), .erasureRequest)
    }

    // MARK: Shopping

    /// A new cart: a category page, then each product's page and `add_to_cart`.
    private mutating func fillCart(_ products: [Int], at start: Int64) -> (cart: Int32, items: [Item], t: Int64) {
        let cart = carts
        carts += 1
        var t = start
        view(category: catalog.products[products[0]].categoryIndex, at: t)
        var items: [Item] = []
        for p in products {
            t = later(t, 20 * Self.second, 3 * Self.minute)
            view(product: p, at: t)
            t = later(t, 10 * Self.second, 2 * Self.minute)
            let bulky = catalog.products[p].categoryIndex.rawValue <= Category.phones.rawValue
            let qty = bulky || chance(850) ? 1 : 2
            emit(t, .addToCart, a: cart, b: Int32(p), c: Int32(qty))
            items.append(Item(product: p, qty: qty))
        }
        return (cart, items, t)
    }

    /// Fills a cart with `products`, checks out and buys.
    private mutating func buy(_ products: [Int], at start: Int64) -> (order: Int32, t: Int64) {
        let (cart, items, filled) = fillCart(products, at: start)
        let t = checkout(cart, items, at: later(filled, 30 * Self.second, 3 * Self.minute))
        return purchase(cart: cart, items, at: later(t, Self.minute, 5 * Self.minute))
    }

    /// A product page, then a "buy now" purchase without a cart.
    private mutating func buyNow(_ product: Int, at start: Int64) -> (order: Int32, t: Int64) {
        view(product: product, at: start)
        return purchase(cart: -1, [Item(product: product, qty: 1)], at: later(start, 30 * Self.second, 3 * Self.minute))
    }

    private mutating func checkout(_ cart: Int32, _ items: [Item], at t: Int64) -> Int64 {
        emit(t, .checkoutStarted, a: cart, items: items)
        return t
    }

    private mutating func purchase(cart: Int32, _ items: [Item], at t: Int64) -> (order: Int32, t: Int64) {
        let order = orders
        orders += 1
        emit(t, .purchase, a: order, b: cart, items: items)
        return (order, t)
    }

    /// Opens a ticket; nine in ten are resolved 2 hours to 4 days later.
    private mutating func ticket(at t: Int64, topic: Topic, channel: Int32, order: Int32) {
        let number = tickets
        tickets += 1
        emit(t, .ticketOpened, a: number, b: topic.rawValue, c: channel, d: order)
        if chance(900) {
            emit(later(t, 2 * Self.hour, 4 * Self.day), .ticketResolved, a: number, b: topic.rawValue, c: channel, d: order)
        }
    }

    private mutating func view(home t: Int64) { emit(t, .pageView, a: Page.home) }

    private mutating func view(category: Category, at t: Int64) {
        emit(t, .pageView, a: Page.category + Int32(category.rawValue))
    }

    private mutating func view(product: Int, at t: Int64) {
        emit(t, .pageView, a: Page.product + Int32(product))
    }

    // MARK: Time and chance

    /// The first event of a visit on day `day` of the period, in the customer's daytime
    /// (07:00 to 23:00 local); a customer who signs up does so at their first visit.
    private mutating func visit(day: Int) -> Int64 {
        var t = startMs + Int64(day) * Self.day
        t = daytime(t)
        if signupDue {
            signupDue = false
            emit(t, .signup, a: Int32(rng.below(3)), d: zone)
            t = later(t, Self.minute, 5 * Self.minute)
        }
        return t
    }

    /// A random time of day between 07:00 and 23:00 in the customer's zone: the first
    /// moment with that clock time at or after `t` (so within 24 hours of it). Never
    /// earlier than `t`, so a delay before it still holds.
    private mutating func daytime(_ t: Int64) -> Int64 {
        let dayStart = t - ((t % Self.day) + Self.day) % Self.day
        let localHour = Int64(7 + rng.below(16))
        let utcHour = localHour - Int64(catalog.zones[Int(zone)].offsetHours)
        var d = dayStart + utcHour * Self.hour + Int64(rng.below(3_600_000))
        while d < t { d += Self.day }
        while d - Self.day >= t { d -= Self.day }
        return d
    }

    /// `t` plus a random delay in `lo..<hi` milliseconds.
    private mutating func later(_ t: Int64, _ lo: Int64, _ hi: Int64) -> Int64 {
        t + lo + Int64(rng.below(Int(hi - lo)))
    }

    /// A day in `lo..<hi` (just `lo` when the period is too short for the range).
    private mutating func randomDay(_ lo: Int, _ hi: Int) -> Int { lo + rng.below(max(1, hi - lo)) }

    private mutating func chance(_ perMille: Int) -> Bool { rng.perMille() < perMille }

    private mutating func pick(_ category: Category) -> Int {
        let list = catalog.byCategory[category.rawValue]
        return list[rng.below(list.count)]
    }

    /// A random category, computers with `computers` per mille, the rest evenly.
    private mutating func anyCategory(computers: Int) -> Category {
        if chance(computers) { return .computers }
        return Category(rawValue: 1 + rng.below(4))!
    }

    private mutating func emit(_ ms: Int64, _ kind: Kind, a: Int32 = 0, b: Int32 = 0, c: Int32 = 0, d: Int32 = 0,
                               items: [Item] = []) {
        events.append(Event(ms: ms, customer: customer, seq: Int32(events.count), kind: kind,
                            a: a, b: b, c: c, d: d, items: items))
    }
}
