/// The `journeys` scenario of cairn-gen: months of a shop's customers, scripted so that the
/// scenario pipelines have something to react to (computer purchases and repair tickets,
/// onboarding, abandoned carts, lapsing, tickets on several channels, consent, erasure).
///
/// Unlike ``Generator``, which simulates interleaved sessions one event at a time, the
/// scenario writes each customer's whole story first (``CustomerScript``), then merges all
/// stories by time and writes them:
///
///     customer 1 ──script──▶ [events] ┐
///     customer 2 ──script──▶ [events] ├──sort by (ts, customer, seq)──▶ ids ──▶ NDJSON
///     …                               ┘
///
/// Each customer draws from their own ``Xoshiro256`` seeded from the seed and their number,
/// so a customer's story does not depend on the number of customers. Cart, order and ticket
/// ids are numbered in the order they first appear in the output (`cart-10001`, `o-20001`,
/// `t-30001`, ...). Times are integer milliseconds; events at or after the end of the
/// period are left out.
///
/// Output follows the scenario vocabulary exactly: keys `event`, `ts`, `user_id`, `tz` (on
/// `signup` and `app_open` only), `props`.
struct JourneyScenario {
    struct Configuration {
        var seed: UInt64
        var customers: Int
        /// Time of the start of the period, milliseconds since the Unix epoch.
        var startMs: Int64
        var days: Int
    }

    enum Kind: UInt8 {
        case signup, appOpen, featureUsed, pageView, addToCart, checkoutStarted, purchase
        case subscriptionStarted, ticketOpened, ticketResolved, consentChanged, erasureRequest

        /// The `event` value.
        var name: StaticString {
            switch self {
            case .signup: "signup"
            case .appOpen: "app_open"
            case .featureUsed: "feature_used"
            case .pageView: "page_view"
            case .addToCart: "add_to_cart"
            case .checkoutStarted: "checkout_started"
            case .purchase: "purchase"
            case .subscriptionStarted: "subscription_started"
            case .ticketOpened: "ticket_opened"
            case .ticketResolved: "ticket_resolved"
            case .consentChanged: "consent_changed"
            case .erasureRequest: "erasure_request"
            }
        }
    }

    /// Ticket topics; `order` is `order-o-…` of the ticket's order.
    enum Topic: Int32 { case delivery = 0, account = 1, repair = 2, order = 3 }

    /// A page: 0 is the home page, `category + k` a category page, `product + k` a product.
    enum Page {
        static let home: Int32 = 0
        static let category: Int32 = 100
        static let product: Int32 = 1000
    }

    struct Item {
        var product: Int
        var qty: Int
    }

    /// One event of a customer's story, before ids are numbered.
    ///
    /// The meaning of `a` ... `d` depends on `kind`:
    ///
    ///     signup            a source, d zone  app_open        a os, d zone
    ///     feature_used      a feature         page_view       a page (Page)
    ///     add_to_cart       a cart, b product, c qty
    ///     checkout_started  a cart, items     purchase        a order, b cart (-1: buy now), items
    ///     subscription_…    a price (cents)   consent_changed a channel, b granted (0/1)
    ///     ticket_opened / ticket_resolved     a ticket, b topic, c channel, d order (-1: none)
    ///
    /// Carts, orders and tickets are numbered per customer from 0 here.
    struct Event {
        var ms: Int64
        var customer: Int32
        var seq: Int32
        var kind: Kind
        var a: Int32 = 0
        var b: Int32 = 0
        var c: Int32 = 0
        var d: Int32 = 0
        var items: [Item] = []
    }

    let catalog = JourneyCatalog()
    let config: Configuration

    init(_ config: Configuration) { self.config = config }

    static let msPerDay: Int64 = 86_400_000

    /// Every customer's story, merged in output order.
    func events() -> [Event] {
        let endMs = config.startMs + Int64(config.days) * Self.msPerDay
        let salt = SplitMix64.mix(config.seed ^ 0x6A6F_7572_6E65_7973)  // "journeys"
        var all: [Event] = []
        for customer in 0..<config.customers {
            var script = CustomerScript(
                customer: Int32(customer), seed: salt &+ UInt64(customer), catalog: catalog,
                startMs: config.startMs, days: config.days)
            script.write()
            all.append(contentsOf: script.events.lazy.filter { $0.ms < endMs })
        }
        all.sort { x, y in
            if x.ms != y.ms { return x.ms < y.ms }
            if x.customer != y.customer { return x.customer < y.customer }
            return x.seq < y.seq
        }
        return all
    }

    /// Writes the scenario, one NDJSON line per event.
    func run(into out: inout EventWriter) throws(WriteError) {
        var ids = IdNumbers()
        for event in events() {
            write(event, ids: &ids, into: &out)
            try out.endLine()
        }
        try out.flush()
    }

    /// Global cart, order and ticket numbers, given in the order of first appearance.
    struct IdNumbers {
        var carts: [Int64: Int64] = [:]
        var orders: [Int64: Int64] = [:]
        var tickets: [Int64: Int64] = [:]

        static func key(_ customer: Int32, _ local: Int32) -> Int64 { Int64(customer) << 32 | Int64(local) }

        mutating func cart(_ customer: Int32, _ local: Int32) -> Int64 {
            number(&carts, Self.key(customer, local), first: 10_001)
        }
        mutating func order(_ customer: Int32, _ local: Int32) -> Int64 {
            number(&orders, Self.key(customer, local), first: 20_001)
        }
        mutating func ticket(_ customer: Int32, _ local: Int32) -> Int64 {
            number(&tickets, Self.key(customer, local), first: 30_001)
        }

        private func number(_ table: inout [Int64: Int64], _ key: Int64, first: Int64) -> Int64 {
            if let n = table[key] { return n }
            let n = first + Int64(table.count)
            table[key] = n
            return n
        }
    }

    // MARK: Writing

    private func write(_ e: Event, ids: inout IdNumbers, into out: inout EventWriter) {
        out.append("{\"event\":\"")
        out.append(e.kind.name)
        out.append("\",\"ts\":\"")
        out.append(timestampMs: e.ms)
        out.append("\",\"user_id\":\"u-")
        out.append(decimal: Int64(e.customer) + 1, width: 5)
        out.append("\"")
        if e.kind == .signup || e.kind == .appOpen {
            out.append(",\"tz\":")
            out.append(catalog.zones[Int(e.d)].name)
        }
        out.append(",\"props\":{")
        switch e.kind {
        case .signup:
            out.append("\"plan\":\"free\",\"source\":")
            out.append(catalog.sources[Int(e.a)])
        case .appOpen:
            out.append("\"os\":")
            out.append(catalog.oses[Int(e.a)])
            out.append(",\"version\":\"5.1.0\"")
        case .featureUsed:
            out.append("\"feature\":")
            out.append(catalog.features[Int(e.a)])
        case .pageView:
            out.append("\"page\":\"")
            if e.a >= Page.product {
                let p = catalog.products[Int(e.a - Page.product)]
                out.append(p.path)
                out.append("\",\"sku\":\"")
                out.append(p.sku)
                out.append("\"")
            } else if e.a >= Page.category {
                out.append(catalog.categoryPaths[Int(e.a - Page.category)])
                out.append("\"")
            } else {
                out.append("/\"")
            }
        case .addToCart:
            let p = catalog.products[Int(e.b)]
            out.append("\"cart_id\":\"cart-")
            out.append(decimal: ids.cart(e.customer, e.a))
            out.append("\",")
            out.append(p.core)
            out.append(",\"qty\":")
            out.append(decimal: Int64(e.c))
            out.append(",")
            out.append(p.category)
        case .checkoutStarted:
            out.append("\"cart_id\":\"cart-")
            out.append(decimal: ids.cart(e.customer, e.a))
            out.append("\",\"value\":")
            out.append(cents: value(e.items))
        case .purchase:
            out.append("\"order_id\":\"o-")
            out.append(decimal: ids.order(e.customer, e.a))
            if e.b >= 0 {
                out.append("\",\"cart_id\":\"cart-")
                out.append(decimal: ids.cart(e.customer, e.b))
                out.append("\",\"total\":")
            } else {
                out.append("\",\"cart_id\":null,\"total\":")
            }
            out.append(cents: value(e.items))
            out.append(",")
            out.append(catalog.products[mainItem(e.items).product].category)
            out.append(",\"items\":[")
            for (k, item) in e.items.enumerated() {
                let p = catalog.products[item.product]
                out.append(k == 0 ? "{\"sku\":\"" : ",{\"sku\":\"")
                out.append(p.sku)
                out.append("\",\"qty\":")
                out.append(decimal: Int64(item.qty))
                out.append(",\"price\":")
                out.append(cents: p.priceCents)
                out.append(",")
                out.append(p.category)
                out.append("}")
            }
            out.append("]")
        case .subscriptionStarted:
            out.append("\"plan\":\"premium\",\"price\":")
            out.append(cents: Int64(e.a))
        case .ticketOpened, .ticketResolved:
            out.append("\"ticket_id\":\"t-")
            out.append(decimal: ids.ticket(e.customer, e.a))
            out.append("\",\"topic\":")
            if e.b == Topic.order.rawValue {
                out.append("\"order-o-")
                out.append(decimal: ids.order(e.customer, e.d))
                out.append("\"")
            } else {
                out.append(catalog.topics[Int(e.b)])
            }
            out.append(",\"channel\":")
            out.append(catalog.ticketChannels[Int(e.c)])
            if e.kind == .ticketOpened {
                if e.d >= 0 {
                    out.append(",\"order_id\":\"o-")
                    out.append(decimal: ids.order(e.customer, e.d))
                    out.append("\"")
                } else {
                    out.append(",\"order_id\":null")
                }
            }
        case .consentChanged:
            out.append("\"channel\":")
            out.append(catalog.consentChannels[Int(e.a)])
            out.append(e.b != 0 ? ",\"granted\":true" : ",\"granted\":false")
        case .erasureRequest:
            out.append("\"source\":\"privacy_center\"")
        }
        out.append("}}")
    }

    private func value(_ items: [Item]) -> Int64 {
        items.reduce(0) { $0 + catalog.products[$1.product].priceCents * Int64($1.qty) }
    }

    /// The line with the highest amount (the first of equals): its category is the order's.
    private func mainItem(_ items: [Item]) -> Item {
        var best = items[0]
        for item in items.dropFirst()
        where catalog.products[item.product].priceCents * Int64(item.qty)
            > catalog.products[best.product].priceCents * Int64(best.qty) {
            best = item
        }
        return best
    }
}
