import CairnCore

/// The vocabulary of the `journeys` scenario (agreed with the scenario pipelines and
/// described in samples/README.md), compiled once into the JSON byte fragments ``JourneyScenario`` copies into its output.
///
/// The event names, key order and prop values here are a contract with the scenario
/// pipelines: change them only together with the vocabulary.
struct JourneyCatalog {
    /// Product categories, in the order of ``Category``.
    enum Category: Int, CaseIterable {
        case computers, phones, accessories, home, shoes
    }

    struct Product {
        /// `"sku":"SKU-2001","name":"…","price":1299.00`
        var core: [UInt8]
        /// `"category":"computers"`
        var category: [UInt8]
        /// `/p/sku-2001`
        var path: [UInt8]
        /// `SKU-2001`
        var sku: [UInt8]
        var categoryIndex: Category
        var priceCents: Int64
    }

    var products: [Product] = []
    /// Product indices by category.
    var byCategory: [[Int]] = Array(repeating: [], count: Category.allCases.count)
    /// Category slugs as JSON strings, `"computers"`.
    var categorySlugs: [[UInt8]] = []
    /// Category page paths, `/c/computers`.
    var categoryPaths: [[UInt8]] = []

    /// IANA zones with a rough UTC offset in January (hours), to put sessions in the day.
    let zones: [(name: [UInt8], offsetHours: Int)] = [
        ("Europe/Berlin", 1), ("Europe/London", 0), ("America/New_York", -5),
        ("America/Los_Angeles", -8), ("Asia/Tokyo", 9), ("Australia/Sydney", 11),
    ].map { (Array(JSONText.quoted($0.0).utf8), $0.1) }
    /// Weights of ``zones`` (Berlin most common).
    let zoneWeights = [30, 20, 18, 12, 10, 10]

    let sources = ["organic", "ads", "referral"].map { Array(JSONText.quoted($0).utf8) }
    let oses = ["ios", "android"].map { Array(JSONText.quoted($0).utf8) }
    let features = ["search", "wishlist", "price_alert", "compare", "reorder", "scan"]
        .map { Array(JSONText.quoted($0).utf8) }
    /// Ticket topics other than `order-o-…`, in the order of ``JourneyScenario/Topic``.
    let topics = ["delivery", "account", "repair"].map { Array(JSONText.quoted($0).utf8) }
    let ticketChannels = ["email", "chat", "phone", "social"].map { Array(JSONText.quoted($0).utf8) }
    let consentChannels = ["email", "push", "sms"].map { Array(JSONText.quoted($0).utf8) }

    init() {
        let slugs = ["computers", "phones", "accessories", "home", "shoes"]
        categorySlugs = slugs.map { Array(JSONText.quoted($0).utf8) }
        categoryPaths = slugs.map { Array("/c/\($0)".utf8) }
        let table: [(name: String, category: Category, cents: Int64)] = [
            ("Laptop 14\" Pro", .computers, 189_900), ("Laptop 13 Air", .computers, 119_900),
            ("Desktop tower", .computers, 149_000), ("Mini PC", .computers, 64_900),
            ("Chromebook", .computers, 39_900),
            ("Phone X 128 GB", .phones, 89_900), ("Phone X 256 GB", .phones, 101_900),
            ("Phone Lite", .phones, 34_900),
            ("USB-C hub", .accessories, 4_990), ("Laptop sleeve 14\"", .accessories, 2_990),
            ("Wireless mouse", .accessories, 3_490), ("Keyboard «Clack»", .accessories, 8_990),
            ("Monitor 27\"", .accessories, 32_900), ("Phone case", .accessories, 1_990),
            ("USB-C charger 65 W", .accessories, 3_990),
            ("Ceramic mug set", .home, 2_990), ("Scented candle 🌲", .home, 1_890),
            ("Linen duvet cover", .home, 8_990), ("Café crème beans 1 kg", .home, 2_490),
            ("Trail running shoe", .shoes, 8_990), ("Espadrille «Sol»", .shoes, 3_990),
            ("Leather boot", .shoes, 14_900),
        ]
        for (i, p) in table.enumerated() {
            let number = 2001 + i * 7
            let price = "\(p.cents / 100).\(p.cents % 100 < 10 ? "0" : "")\(p.cents % 100)"
            byCategory[p.category.rawValue].append(i)
            products.append(Product(
                core: Array("\"sku\":\"SKU-\(number)\",\"name\":\(JSONText.quoted(p.name)),\"price\":\(price)".utf8),
                category: Array("\"category\":\(JSONText.quoted(slugs[p.category.rawValue]))".utf8),
                path: Array("/p/sku-\(number)".utf8),
                sku: Array("SKU-\(number)".utf8),
                categoryIndex: p.category,
                priceCents: p.cents))
        }
    }
}
