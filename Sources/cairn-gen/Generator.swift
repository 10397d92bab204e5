/// The web-shop simulation behind cairn-gen.
///
/// A fixed number of browsing sessions run at once (about `rate × 30 s`, so each session
/// emits an event every 30 s of event time on average, and sessions of different customers
/// interleave). Each step advances the clock by a random gap (mean `1 / rate`), then emits
/// one event: a support ticket that has come due is resolved, a free slot starts a
/// session, or a random running session takes its next step:
///
///     browsing ──add_to_cart──▶ carted ──checkout_started──▶ checkout ──purchase──▶ purchased
///                                  ▲                             │ page_view           │
///                                  └─────────────────────────────┘                     │
///     browsing ◀──────────────────────────── page_view ────────────────────────────────┘
///
/// Any stage may also end the session (no event); browsing may open a ticket, change email
/// preferences or "buy now". A session ends after 40 events at the latest.
///
/// A session that ends with items in its cart leaves the cart to the customer's next
/// session (same `cart_id`), so abandoned carts are later bought or abandoned again; a few
/// purchases are "buy now" with a fresh cart and no `add_to_cart`. Tickets are resolved
/// 15 min to 24 h after they were opened. Customers are drawn with a skew towards low
/// numbers (`c-000001` is the most active), each with a fixed device and city.
///
/// All randomness comes from one ``Xoshiro256`` seeded with `seed`, and every draw, time
/// and amount is integer arithmetic (`rate` is turned into integer microseconds once), so
/// the same configuration produces the same bytes everywhere.
struct Generator {
    struct Configuration {
        var seed: UInt64
        var events: Int
        var customers: Int
        /// Time of the first event, microseconds since the Unix epoch.
        var startMicros: Int64
        /// Events per second of event time.
        var rate: Double
    }

    private enum Stage: UInt8 { case browsing, carted, checkout, purchased }

    private struct Session {
        var customer: Int
        var id: UInt32
        var stage: Stage
        /// The page the customer is on (``Page``), the referrer of their next page.
        var page: Int32
        /// Cart number, 0 when the customer has no cart.
        var cart: Int64
        /// Up to four cart lines of 16 bits: product index + 1 (12 bits), quantity (4 bits).
        var items: UInt64
        var events: Int
    }

    /// Page codes: small fixed pages, then categories and products by index.
    private enum Page {
        static let home: Int32 = 0
        static let cart: Int32 = 1
        static let checkout: Int32 = 2
        static let confirmation: Int32 = 3
        static let contact: Int32 = 4
        static let emailSettings: Int32 = 5
        static let category: Int32 = 100
        static let product: Int32 = 1000
    }

    /// Per-customer flags.
    private enum Flag {
        static let inSession: UInt8 = 1
        static let unsubscribed: UInt8 = 2
        static let openTicket: UInt8 = 4
    }

    private let catalog = Catalog()
    private let customers: Int
    private let customerWidth: Int
    private let maxSessions: Int
    private let meanGapMicros: Int64
    private let attributeSalt: UInt64
    private var rng: Xoshiro256
    private var now: Int64
    private var flags: [UInt8]
    private var sessions: [Session] = []
    private var savedCarts: [Int: (cart: Int64, items: UInt64)] = [:]
    private var tickets = TicketQueue()
    private var nextCart: Int64 = 10_001
    private var nextOrder: Int64 = 1
    private var nextTicket: Int64 = 1

    init(_ config: Configuration) {
        customers = config.customers
        customerWidth = max(6, String(config.customers).utf8.count)
        maxSessions = min(max(1, config.customers / 2), max(1, min(1_000_000, Int((config.rate * 30).rounded()))))
        meanGapMicros = max(1, Int64((1_000_000 / config.rate).rounded()))
        attributeSalt = SplitMix64.mix(config.seed ^ 0x6361_6972_6E2D_6765)  // "cairn-ge"
        rng = Xoshiro256(seed: config.seed)
        now = config.startMicros
        flags = [UInt8](repeating: 0, count: config.customers)
        sessions.reserveCapacity(maxSessions)
    }

    /// Writes `count` events, one NDJSON line each.
    mutating func run(count: Int, into out: inout EventWriter) throws(WriteError) {
        for _ in 0..<count {
            emitNext(into: &out)
            try out.endLine()
            now += Int64(rng.below(Int(2 * meanGapMicros + 1)))
        }
        try out.flush()
    }

    private mutating func emitNext(into out: inout EventWriter) {
        if let due = tickets.first, due.due <= now {
            resolveTicket(into: &out)
            return
        }
        while true {
            if sessions.count < maxSessions {
                startSession(into: &out)
                return
            }
            let index = rng.below(sessions.count)
            if step(index, into: &out) { return }
        }
    }

    // MARK: Sessions

    private mutating func pickCustomer() -> Int {
        // min of two uniform draws: density 2(1 − x), most activity from low numbers.
        var c = min(rng.below(customers), rng.below(customers))
        var tries = 0
        while flags[c] & Flag.inSession != 0 {
            tries += 1
            c = tries < 8 ? min(rng.below(customers), rng.below(customers)) : (c + 1) % customers
        }
        return c
    }

    private mutating func startSession(into out: inout EventWriter) {
        let customer = pickCustomer()
        flags[customer] |= Flag.inSession
        var session = Session(customer: customer, id: UInt32(truncatingIfNeeded: rng.next() >> 32),
                              stage: .browsing, page: -1, cart: 0, items: 0, events: 0)
        if let saved = savedCarts.removeValue(forKey: customer) {
            session.cart = saved.cart
            session.items = saved.items
            session.stage = .carted
        }
        pageView(&session, into: &out)
        sessions.append(session)
    }

    private mutating func endSession(_ index: Int) {
        let session = sessions[index]
        flags[session.customer] &= ~Flag.inSession
        if session.cart != 0 { savedCarts[session.customer] = (session.cart, session.items) }
        sessions.swapAt(index, sessions.count - 1)
        sessions.removeLast()
    }

    /// One step of session `index`; `false` when the session ended without an event.
    private mutating func step(_ index: Int, into out: inout EventWriter) -> Bool {
        var s = sessions[index]
        let r = rng.perMille()
        if s.events >= 40 { endSession(index); return false }
        switch s.stage {
        case .browsing:
            if r < 6, flags[s.customer] & Flag.openTicket == 0 {
                ticketOpened(&s, into: &out)
            } else if r < 12 {
                emailPreference(&s, into: &out)
            } else if r < 16 {
                buyNow(&s, into: &out)
            } else if r < 130 {
                addToCart(&s, into: &out)
            } else if r < 230 {
                endSession(index)
                return false
            } else {
                pageView(&s, into: &out)
            }
        case .carted:
            if r < 90 {
                addToCart(&s, into: &out)
            } else if r < 230 {
                checkoutStarted(&s, into: &out)
            } else if r < 350 {
                endSession(index)
                return false
            } else if r < 355, flags[s.customer] & Flag.openTicket == 0 {
                ticketOpened(&s, into: &out)
            } else {
                pageView(&s, into: &out)
            }
        case .checkout:
            if r < 560 {
                purchase(&s, into: &out)
            } else if r < 700 {
                s.stage = .carted
                pageView(&s, into: &out)
            } else {
                endSession(index)
                return false
            }
        case .purchased:
            if r < 15, flags[s.customer] & Flag.openTicket == 0 {
                ticketOpened(&s, into: &out)
            } else if r < 400 {
                s.stage = .browsing
                pageView(&s, into: &out)
            } else {
                endSession(index)
                return false
            }
        }
        s.events += 1
        sessions[index] = s
        return true
    }

    // MARK: Events

    private mutating func pageView(_ s: inout Session, into out: inout EventWriter) {
        head("page_view", customer: s.customer, session: s.id, into: &out)
        out.append(",\"props\":{")
        let r = rng.perMille()
        let page: Int32
        if r < 720 {
            let p = randomProduct(near: s.page)
            out.append(catalog.products[p].core)
            out.append(",")
            out.append(catalog.products[p].category)
            page = Page.product + Int32(p)
        } else if r < 920 {
            let c = rng.below(catalog.categories.count)
            out.append(catalog.categories[c].props)
            page = Page.category + Int32(c)
        } else {
            out.append("\"title\":\"Home\"")
            page = Page.home
        }
        out.append("}")
        tail(&s, page: page, into: &out)
    }

    private mutating func addToCart(_ s: inout Session, into out: inout EventWriter) {
        let product = s.page >= Page.product ? Int(s.page - Page.product) : randomProduct(near: s.page)
        let qty = { (r: Int) -> UInt64 in r < 850 ? 1 : r < 970 ? 2 : 3 }(rng.perMille())
        // Find the product's line or a free one; a full cart just browses on.
        var slot = -1
        for k in 0..<4 {
            let line = (s.items >> (16 * UInt64(k))) & 0xFFFF
            if line & 0xFFF == UInt64(product + 1) || line == 0 { slot = k; break }
        }
        guard slot >= 0 else { pageView(&s, into: &out); return }
        let shift = 16 * UInt64(slot)
        let line = (s.items >> shift) & 0xFFFF
        let newQty = min(15, (line >> 12) + qty)
        s.items = (s.items & ~(0xFFFF << shift)) | ((UInt64(product + 1) | newQty << 12) << shift)
        if s.cart == 0 { s.cart = takeCartNumber() }
        s.stage = .carted

        let p = catalog.products[product]
        head("add_to_cart", customer: s.customer, session: s.id, into: &out)
        out.append(",\"props\":{")
        out.append(p.core)
        out.append(",\"qty\":")
        out.append(decimal: Int64(qty))
        out.append(",\"currency\":\"EUR\",")
        out.append(p.category)
        out.append(",\"cart_id\":\"cart-")
        out.append(decimal: s.cart)
        out.append("\"}")
        tail(&s, page: Page.product + Int32(product), into: &out)
    }

    private mutating func checkoutStarted(_ s: inout Session, into out: inout EventWriter) {
        s.stage = .checkout
        head("checkout_started", customer: s.customer, session: s.id, into: &out)
        out.append(",\"props\":{\"cart_id\":\"cart-")
        out.append(decimal: s.cart)
        out.append("\",\"item_count\":")
        out.append(decimal: Int64(itemCount(s.items)))
        out.append(",\"value\":")
        out.append(cents: cartValue(s.items))
        out.append(",\"currency\":\"EUR\"}")
        tail(&s, page: Page.checkout, into: &out)
    }

    private mutating func buyNow(_ s: inout Session, into out: inout EventWriter) {
        let product = s.page >= Page.product ? Int(s.page - Page.product) : randomProduct(near: s.page)
        if s.cart == 0 { s.cart = takeCartNumber() }
        s.items = UInt64(product + 1) | 1 << 12
        purchase(&s, into: &out)
    }

    private mutating func purchase(_ s: inout Session, into out: inout EventWriter) {
        let order = nextOrder
        nextOrder += 1
        head("purchase", customer: s.customer, session: s.id, into: &out)
        out.append(",\"props\":{\"order_id\":\"o-")
        out.append(decimal: order, width: 6)
        out.append("\",\"cart_id\":\"cart-")
        out.append(decimal: s.cart)
        out.append("\",\"total\":")
        out.append(cents: cartValue(s.items))
        out.append(",\"currency\":\"EUR\",\"payment\":")
        out.append(catalog.payments[rng.below(catalog.payments.count)])
        out.append(",\"items\":[")
        var first = true
        for k in 0..<4 {
            let line = (s.items >> (16 * UInt64(k))) & 0xFFFF
            guard line != 0 else { continue }
            let p = catalog.products[Int(line & 0xFFF) - 1]
            out.append(first ? "{\"sku\":\"" : ",{\"sku\":\"")
            first = false
            out.append(p.sku)
            out.append("\",\"qty\":")
            out.append(decimal: Int64(line >> 12))
            out.append(",\"price\":")
            out.append(cents: p.priceCents)
            out.append("}")
        }
        out.append("]}")
        s.stage = .purchased
        s.cart = 0
        s.items = 0
        tail(&s, page: Page.confirmation, into: &out)
    }

    private mutating func ticketOpened(_ s: inout Session, into out: inout EventWriter) {
        let ticket = TicketQueue.Ticket(
            due: now + 900_000_000 + Int64(rng.below(86_400)) * 1_000_000,
            number: nextTicket, opened: now, customer: Int32(s.customer),
            topic: UInt8(rng.below(catalog.ticketTopics.count)),
            channel: UInt8(rng.below(catalog.ticketChannels.count)))
        nextTicket += 1
        tickets.insert(ticket)
        flags[s.customer] |= Flag.openTicket
        head("ticket_opened", customer: s.customer, session: s.id, into: &out)
        ticketProps(ticket, into: &out)
        out.append(rng.perMille() < 150 ? ",\"priority\":\"high\"}" : ",\"priority\":\"normal\"}")
        tail(&s, page: Page.contact, into: &out)
    }

    private mutating func resolveTicket(into out: inout EventWriter) {
        let ticket = tickets.removeFirst()
        let customer = Int(ticket.customer)
        flags[customer] &= ~Flag.openTicket
        head("ticket_resolved", customer: customer, session: nil, into: &out)
        ticketProps(ticket, into: &out)
        out.append(",\"resolution\":")
        out.append(catalog.resolutions[rng.below(catalog.resolutions.count)])
        out.append(",\"minutes_open\":")
        out.append(decimal: (now - ticket.opened) / 60_000_000)
        out.append("}")
        customerAttributes(customer, into: &out)
        out.append("}")
    }

    private func ticketProps(_ ticket: TicketQueue.Ticket, into out: inout EventWriter) {
        out.append(",\"props\":{\"ticket_id\":\"t-")
        out.append(decimal: ticket.number, width: 6)
        out.append("\",\"topic\":")
        out.append(catalog.ticketTopics[Int(ticket.topic)])
        out.append(",\"channel\":")
        out.append(catalog.ticketChannels[Int(ticket.channel)])
    }

    private mutating func emailPreference(_ s: inout Session, into out: inout EventWriter) {
        let wasSubscribed = flags[s.customer] & Flag.unsubscribed == 0
        let subscribed = rng.perMille() < 800 ? !wasSubscribed : wasSubscribed
        if subscribed { flags[s.customer] &= ~Flag.unsubscribed } else { flags[s.customer] |= Flag.unsubscribed }
        head("email_preference", customer: s.customer, session: s.id, into: &out)
        out.append(subscribed ? ",\"subscribed\":true,\"list\":" : ",\"subscribed\":false,\"list\":")
        out.append(catalog.emailLists[rng.below(catalog.emailLists.count)])
        out.append(",\"props\":{\"source\":\"preference_center\"}")
        tail(&s, page: Page.emailSettings, into: &out)
    }

    // MARK: Line parts

    /// `{"event":…,"ts":…,"user_id":…,"session":…` (no trailing comma).
    private func head(_ type: StaticString, customer: Int, session: UInt32?, into out: inout EventWriter) {
        out.append("{\"event\":\"")
        out.append(type)
        out.append("\",\"ts\":\"")
        out.append(timestampMs: now >= 0 ? now / 1000 : (now - 999) / 1000)
        out.append("\",\"user_id\":\"c-")
        out.append(decimal: Int64(customer + 1), width: customerWidth)
        if let session {
            out.append("\",\"session\":\"s-")
            out.append(hex32: session)
            out.append("\"")
        } else {
            out.append("\",\"session\":null")
        }
    }

    /// `,"device":…,"geo":…,"page":…,"referrer":…}`; moves the session to `page`.
    private func tail(_ s: inout Session, page: Int32, into out: inout EventWriter) {
        customerAttributes(s.customer, into: &out)
        out.append(",\"page\":\"")
        appendPath(page, into: &out)
        out.append("\",")
        if s.page < 0 {
            let h = SplitMix64.mix(attributeSalt &+ UInt64(s.id))
            out.append(catalog.landingReferrers[Int(h % UInt64(catalog.landingReferrers.count))])
        } else {
            out.append("\"referrer\":\"https://shop.example.com")
            appendPath(s.page, into: &out)
            out.append("\"")
        }
        out.append("}")
        s.page = page
    }

    /// `,"device":…,"geo":…`, fixed per customer.
    private func customerAttributes(_ customer: Int, into out: inout EventWriter) {
        let h = SplitMix64.mix(attributeSalt ^ UInt64(customer))
        out.append(",")
        out.append(catalog.devices[Int(h % UInt64(catalog.devices.count))])
        out.append(",")
        out.append(catalog.geos[Int((h >> 32) % UInt64(catalog.geos.count))])
    }

    private func appendPath(_ page: Int32, into out: inout EventWriter) {
        switch page {
        case Page.product...: out.append(catalog.products[Int(page - Page.product)].path)
        case Page.category...: out.append(catalog.categories[Int(page - Page.category)].path)
        case Page.cart: out.append("/cart")
        case Page.checkout: out.append("/checkout")
        case Page.confirmation: out.append("/checkout/confirmation")
        case Page.contact: out.append("/help/contact")
        case Page.emailSettings: out.append("/account/email")
        default: out.append("/")
        }
    }

    // MARK: Helpers

    /// A random product, from the same category as the current page half of the time.
    private mutating func randomProduct(near page: Int32) -> Int {
        let count = catalog.products.count
        let category: Int
        if page >= Page.product {
            category = catalog.products[Int(page - Page.product)].categoryIndex
        } else if page >= Page.category {
            category = Int(page - Page.category)
        } else {
            return rng.below(count)
        }
        let r = rng.below(2 * count)
        if r >= count { return r - count }
        // Walk from a random start to the next product of `category`.
        for k in 0..<count where catalog.products[(r + k) % count].categoryIndex == category {
            return (r + k) % count
        }
        return r
    }

    private mutating func takeCartNumber() -> Int64 {
        defer { nextCart += 1 }
        return nextCart
    }

    private func itemCount(_ items: UInt64) -> Int {
        var n = 0
        for k in 0..<4 where (items >> (16 * UInt64(k))) & 0xFFFF != 0 { n += 1 }
        return n
    }

    private func cartValue(_ items: UInt64) -> Int64 {
        var total: Int64 = 0
        for k in 0..<4 {
            let line = (items >> (16 * UInt64(k))) & 0xFFFF
            guard line != 0 else { continue }
            total += catalog.products[Int(line & 0xFFF) - 1].priceCents * Int64(line >> 12)
        }
        return total
    }
}
