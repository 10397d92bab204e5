import CairnCore

/// The simulated shop: products, places, devices, referrers and support vocabulary, each
/// compiled once into the JSON byte fragments the generator copies into its output.
///
/// Some names carry non-ASCII text (2-, 3- and 4-byte UTF-8) and one carries quotes, so
/// consumers of the generated events exercise UTF-8 and JSON string escapes.
struct Catalog {
    /// One product, as its JSON fragments.
    struct Product {
        /// `"sku":"SKU-1001","name":"…","price":89.90`
        var core: [UInt8]
        /// `"category":"shoes"`
        var category: [UInt8]
        /// `/p/sku-1001`
        var path: [UInt8]
        /// `SKU-1001`
        var sku: [UInt8]
        var categoryIndex: Int
        var priceCents: Int64
    }

    /// One category page.
    struct Category {
        /// `"category":"shoes","title":"Shoes"`
        var props: [UInt8]
        /// `/c/shoes`
        var path: [UInt8]
    }

    var products: [Product] = []
    var categories: [Category] = []
    /// `"geo":{"country":"DE","city":"Berlin"}`, with popular cities repeated for weight.
    var geos: [[UInt8]] = []
    /// `"device":{"os":"ios","app":"4.2.1"}`, weighted the same way.
    var devices: [[UInt8]] = []
    /// Complete `"referrer":"…"` members for a session's landing page ("" is direct).
    var landingReferrers: [[UInt8]] = []
    var ticketTopics: [[UInt8]] = []
    var ticketChannels: [[UInt8]] = []
    var resolutions: [[UInt8]] = []
    var emailLists: [[UInt8]] = []
    var payments: [[UInt8]] = []

    init() {
        let categoryTable: [(slug: String, title: String)] = [
            ("shoes", "Shoes"), ("apparel", "Apparel"), ("outdoor", "Outdoor"),
            ("kitchen", "Kitchen"), ("coffee", "Coffee & tea"), ("electronics", "Electronics"),
            ("books", "Books"), ("home", "Home & living"), ("gifts", "Gifts"),
        ]
        for c in categoryTable {
            categories.append(Category(
                props: Self.bytes("\"category\":\(JSONText.quoted(c.slug)),\"title\":\(JSONText.quoted(c.title))"),
                path: Self.bytes("/c/\(c.slug)")))
        }
        let productTable: [(name: String, category: Int, cents: Int64)] = [
            ("Trail running shoe", 0, 8990), ("Road running shoe", 0, 11990),
            ("Leather boot", 0, 14900), ("Espadrille «Sol»", 0, 3990), ("Kids' sneaker", 0, 4490),
            ("Merino T-shirt", 1, 5990), ("Rain jacket", 1, 12900), ("Wool socks (3-pack)", 1, 1999),
            ("Down vest", 1, 9900), ("Crème-coloured hoodie", 1, 6490),
            ("Tent 2P ultralight", 2, 34900), ("Sleeping bag −5 °C", 2, 18900),
            ("Headlamp 400 lm", 2, 3490), ("Trekking poles", 2, 7990), ("Water bottle 1 L", 2, 1990),
            ("Chef's knife 20 cm", 3, 7900), ("Cast-iron pan 28 cm", 3, 5490), ("Crêpe pan", 3, 3290),
            ("Knife \"Santoku\" 18 cm", 3, 6990),
            ("Café crème beans 1 kg", 4, 2490), ("Espresso machine", 4, 44900),
            ("Hand grinder", 4, 8900), ("Pour-over kettle", 4, 4590),
            ("Kaffeebohnen Äthiopien 250 g", 4, 1190),
            ("Wireless earbuds", 5, 12900), ("USB-C charger 65 W", 5, 3990), ("E-reader", 5, 13990),
            ("Smartwatch", 5, 24900), ("Bluetooth speaker", 5, 5990),
            ("Das Café am Rande der Welt", 6, 1200), ("Trail guide: Alpes & Jura", 6, 2450),
            ("日本の家庭料理", 6, 2890), ("Cookbook: Smørrebrød", 6, 2290),
            ("Linen duvet cover", 7, 8990), ("Ceramic mug set", 7, 2990),
            ("Scented candle 🌲", 7, 1890), ("Wool throw", 7, 6990),
            ("Gift card 25 €", 8, 2500), ("Gift card 50 €", 8, 5000), ("Gift wrap", 8, 390),
        ]
        for (i, p) in productTable.enumerated() {
            let number = 1001 + i * 7
            let price = "\(p.cents / 100).\(p.cents % 100 < 10 ? "0" : "")\(p.cents % 100)"
            products.append(Product(
                core: Self.bytes("\"sku\":\"SKU-\(number)\",\"name\":\(JSONText.quoted(p.name)),\"price\":\(price)"),
                category: Self.bytes("\"category\":\(JSONText.quoted(categoryTable[p.category].slug))"),
                path: Self.bytes("/p/sku-\(number)"),
                sku: Self.bytes("SKU-\(number)"),
                categoryIndex: p.category,
                priceCents: p.cents))
        }
        let cityTable: [(country: String, city: String, weight: Int)] = [
            ("DE", "Berlin", 6), ("DE", "München", 4), ("DE", "Köln", 3), ("DE", "Hamburg", 3),
            ("CH", "Zürich", 3), ("CH", "Genève", 2), ("AT", "Wien", 2), ("FR", "Paris", 4),
            ("FR", "Besançon", 1), ("NL", "Amsterdam", 3), ("SE", "Malmö", 1), ("PL", "Kraków", 2),
            ("ES", "Madrid", 2), ("IT", "Milano", 2), ("GB", "London", 4), ("DK", "København", 1),
            ("BR", "São Paulo", 1), ("US", "New York", 2),
        ]
        for c in cityTable {
            let geo = Self.bytes("\"geo\":{\"country\":\(JSONText.quoted(c.country)),\"city\":\(JSONText.quoted(c.city))}")
            geos.append(contentsOf: repeatElement(geo, count: c.weight))
        }
        let deviceTable: [(os: String, app: String, weight: Int)] = [
            ("ios", "4.2.1", 20), ("ios", "4.2.0", 8), ("ios", "4.1.7", 4),
            ("android", "4.2.1", 14), ("android", "4.1.9", 8), ("android", "4.0.3", 4),
            ("web", "web-2024.02", 30), ("web", "web-2024.01", 12),
        ]
        for d in deviceTable {
            let device = Self.bytes("\"device\":{\"os\":\(JSONText.quoted(d.os)),\"app\":\(JSONText.quoted(d.app))}")
            devices.append(contentsOf: repeatElement(device, count: d.weight))
        }
        let referrerTable: [(url: String, weight: Int)] = [
            ("https://www.google.com/", 40), ("", 20), ("https://www.bing.com/", 5),
            ("https://duckduckgo.com/", 5), ("https://www.instagram.com/", 10),
            ("https://mail.example.com/newsletter/2024-03", 12),
            ("https://www.idealo.de/preisvergleich/", 8),
        ]
        for r in referrerTable {
            landingReferrers.append(contentsOf: repeatElement(
                Self.bytes("\"referrer\":\(JSONText.quoted(r.url))"), count: r.weight))
        }
        ticketTopics = ["delivery", "delivery", "delivery", "refund", "refund", "defect", "payment",
                        "return", "account"].map { Self.bytes(JSONText.quoted($0)) }
        ticketChannels = ["chat", "chat", "email", "email", "phone"].map { Self.bytes(JSONText.quoted($0)) }
        resolutions = ["answered", "answered", "refund_issued", "replacement_sent", "closed_no_reply"]
            .map { Self.bytes(JSONText.quoted($0)) }
        emailLists = ["newsletter", "newsletter", "offers", "product_updates"]
            .map { Self.bytes(JSONText.quoted($0)) }
        payments = ["card", "card", "card", "paypal", "paypal", "klarna", "apple_pay"]
            .map { Self.bytes(JSONText.quoted($0)) }
    }

    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}
