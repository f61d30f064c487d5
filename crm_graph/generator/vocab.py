"""The fixed vocabularies the generator draws from: names, places, channels, catalogue, tags.

Weights are relative (they need not add up to 1). The strings contain no tab, newline or backslash,
which lets the PostgreSQL loader write them into COPY text without escaping.
"""

from __future__ import annotations

#: Given names by gender; (display name, ASCII form for e-mail addresses).
FEMALE_NAMES = [
    ("Anna", "anna"), ("Maria", "maria"), ("Katarzyna", "katarzyna"), ("Małgorzata", "malgorzata"),
    ("Agnieszka", "agnieszka"), ("Barbara", "barbara"), ("Ewa", "ewa"), ("Magdalena", "magdalena"),
    ("Joanna", "joanna"), ("Aleksandra", "aleksandra"), ("Zofia", "zofia"), ("Julia", "julia"),
    ("Natalia", "natalia"), ("Karolina", "karolina"), ("Marta", "marta"), ("Emma", "emma"),
    ("Sophie", "sophie"), ("Laura", "laura"), ("Hannah", "hannah"), ("Léa", "lea"),
    ("Jana", "jana"), ("Lucía", "lucia"), ("Giulia", "giulia"), ("Olivia", "olivia"),
]
MALE_NAMES = [
    ("Piotr", "piotr"), ("Krzysztof", "krzysztof"), ("Andrzej", "andrzej"), ("Tomasz", "tomasz"),
    ("Paweł", "pawel"), ("Jan", "jan"), ("Michał", "michal"), ("Marcin", "marcin"),
    ("Jakub", "jakub"), ("Adam", "adam"), ("Łukasz", "lukasz"), ("Mateusz", "mateusz"),
    ("Kacper", "kacper"), ("Bartosz", "bartosz"), ("Wojciech", "wojciech"), ("Lukas", "lukas"),
    ("Maximilian", "maximilian"), ("Thomas", "thomas"), ("James", "james"), ("Louis", "louis"),
    ("Petr", "petr"), ("Marco", "marco"), ("Pablo", "pablo"), ("Oliver", "oliver"),
]
NEUTRAL_NAMES = [("Alex", "alex"), ("Sasha", "sasha"), ("Robin", "robin"), ("Kim", "kim"), ("Noa", "noa")]
LAST_NAMES = [
    ("Nowak", "nowak"), ("Kowalczyk", "kowalczyk"), ("Wiśniewski", "wisniewski"), ("Wójcik", "wojcik"),
    ("Kamiński", "kaminski"), ("Lewandowski", "lewandowski"), ("Zieliński", "zielinski"),
    ("Szymański", "szymanski"), ("Woźniak", "wozniak"), ("Dąbrowski", "dabrowski"), ("Kozłowski", "kozlowski"),
    ("Jankowski", "jankowski"), ("Mazur", "mazur"), ("Krawczyk", "krawczyk"), ("Piotrowski", "piotrowski"),
    ("Grabowski", "grabowski"), ("Pawłowski", "pawlowski"), ("Michalski", "michalski"), ("Król", "krol"),
    ("Wieczorek", "wieczorek"), ("Müller", "mueller"), ("Schmidt", "schmidt"), ("Schneider", "schneider"),
    ("Fischer", "fischer"), ("Novák", "novak"), ("Svoboda", "svoboda"), ("Smith", "smith"), ("Brown", "brown"),
    ("Taylor", "taylor"), ("Martin", "martin"), ("Bernard", "bernard"), ("Rossi", "rossi"),
    ("García", "garcia"), ("Kazlauskas", "kazlauskas"), ("de Vries", "devries"), ("Horváth", "horvath"),
]
EMAIL_DOMAINS = [
    ("gmail.com", 38), ("wp.pl", 14), ("o2.pl", 9), ("onet.pl", 9), ("interia.pl", 6), ("outlook.com", 8),
    ("yahoo.com", 4), ("icloud.com", 5), ("gmx.de", 4), ("seznam.cz", 2), ("example.org", 1),
]

#: Countries (ISO 3166-1 alpha-2), their weight, phone prefix and cities with weights.
COUNTRIES = [
    ("PL", 58, "+48", [("Warszawa", 30), ("Kraków", 15), ("Wrocław", 12), ("Poznań", 10), ("Gdańsk", 9),
                       ("Łódź", 8), ("Katowice", 6), ("Lublin", 5), ("Szczecin", 5), ("Białystok", 4),
                       ("Rzeszów", 3), ("Toruń", 3), ("Olsztyn", 2), ("Zakopane", 1)]),
    ("DE", 11, "+49", [("Berlin", 30), ("Hamburg", 15), ("München", 15), ("Köln", 10), ("Frankfurt am Main", 8),
                       ("Leipzig", 6), ("Dresden", 5)]),
    ("CZ", 5, "+420", [("Praha", 40), ("Brno", 25), ("Ostrava", 15), ("Plzeň", 10)]),
    ("GB", 6, "+44", [("London", 45), ("Manchester", 15), ("Birmingham", 12), ("Edinburgh", 8), ("Leeds", 6)]),
    ("US", 5, "+1", [("New York", 30), ("Chicago", 20), ("Los Angeles", 20), ("Houston", 10), ("Boston", 8)]),
    ("FR", 4, "+33", [("Paris", 45), ("Lyon", 20), ("Marseille", 15), ("Lille", 10)]),
    ("SK", 3, "+421", [("Bratislava", 50), ("Košice", 30), ("Žilina", 15)]),
    ("LT", 2, "+370", [("Vilnius", 55), ("Kaunas", 30), ("Klaipėda", 15)]),
    ("NL", 2, "+31", [("Amsterdam", 45), ("Rotterdam", 30), ("Utrecht", 25)]),
    ("IT", 2, "+39", [("Roma", 40), ("Milano", 40), ("Torino", 20)]),
    ("ES", 2, "+34", [("Madrid", 50), ("Barcelona", 40), ("Valencia", 10)]),
]

#: Gender shares among identified customers (unidentified visitors never told: UNKNOWN).
GENDERS = [("FEMALE", 47), ("MALE", 36), ("OTHER", 2), ("UNKNOWN", 10), ("REFUSED", 5)]

#: First-touch acquisition channels (source / medium, as UTM fields give them).
ACQUISITION_CHANNELS = [
    ("direct", 24), ("google / organic", 20), ("google / cpc", 17), ("facebook / social", 10),
    ("instagram / social", 6), ("newsletter", 5), ("referral", 5), ("affiliate", 4), ("tiktok / social", 3),
    ("bing / organic", 2),
]
#: Paid channels: cost per acquired customer in the store currency (before daily noise).
PAID_CHANNELS = [
    ("google / cpc", 46.0), ("facebook / social", 38.0), ("instagram / social", 31.0),
    ("tiktok / social", 24.0), ("affiliate", 19.0),
]
#: Channels of repeat orders (the first order takes the customer's acquisition channel).
REPEAT_ORDER_CHANNELS = [("direct", 45), ("newsletter", 22), ("google / organic", 10), ("google / cpc", 8),
                         ("facebook / social", 6), ("instagram / social", 4), ("referral", 3), ("affiliate", 2)]

#: Catalogue categories: (name, SKU prefix, median price in cents, price spread, popularity, product nouns).
CATEGORIES = [
    ("Skincare", "SKN", 6900, 0.5, 18, ["Face Cream", "Serum", "Cleansing Gel", "Eye Cream", "Face Mask"]),
    ("Makeup", "MKP", 5900, 0.5, 12, ["Lipstick", "Mascara", "Foundation", "Eyeliner", "Blush"]),
    ("Hair", "HAR", 4500, 0.4, 10, ["Shampoo", "Conditioner", "Hair Oil", "Hair Mask"]),
    ("Fragrance", "FRG", 21900, 0.45, 6, ["Eau de Parfum", "Eau de Toilette", "Body Mist"]),
    ("Body", "BDY", 3900, 0.4, 10, ["Body Lotion", "Shower Gel", "Body Scrub", "Hand Cream"]),
    ("Supplements", "SUP", 7900, 0.35, 7, ["Collagen", "Vitamin D3", "Omega-3", "Biotin"]),
    ("Accessories", "ACC", 3500, 0.6, 6, ["Makeup Brush", "Cosmetic Bag", "Hair Clip", "Sponge"]),
    ("Home", "HOM", 8900, 0.55, 5, ["Scented Candle", "Diffuser", "Bath Salt"]),
    ("Men", "MEN", 5500, 0.4, 6, ["Beard Oil", "Shaving Gel", "Aftershave"]),
    ("Kids", "KID", 3200, 0.4, 4, ["Baby Lotion", "Kids Shampoo", "Sun Cream SPF50"]),
    ("Gift Sets", "GFT", 17900, 0.5, 5, ["Gift Box", "Travel Set", "Advent Calendar"]),
    ("Devices", "DEV", 39900, 0.5, 2, ["Hair Dryer", "Facial Cleansing Brush", "LED Mask"]),
]
PRODUCT_LINES = ["Aqua", "Velvet", "Pure", "Nordic", "Rose", "Argan", "Bamboo", "Silk", "Amber", "Citrus",
                 "Glow", "Cloud", "Forest", "Ocean", "Honey", "Matcha", "Lavender", "Coco", "Vanilla", "Mint"]

#: About twenty tags; earlier ones are more popular (the generator gives them Zipf-like weights).
TAGS = [
    "newsletter-signup", "vip", "returning", "discount-hunter", "first-order-coupon", "abandoned-cart",
    "gift-buyer", "loyalty-club", "instagram", "black-friday", "wholesale", "complaint", "influencer",
    "student", "eco-friendly", "b2b", "sample-request", "beta-tester", "event-warsaw", "do-not-call",
]

#: WooCommerce raw statuses of each normalised status.
RAW_STATUS = {
    "COMPLETED": "completed", "PAID": "processing", "REFUNDED": "refunded", "CANCELLED": "cancelled",
    "FAILED": "failed", "PENDING": "pending",
}
REFUND_REASONS = [(None, 40), ("Returned by customer", 30), ("Damaged in transit", 10), ("Wrong size or shade", 12),
                  ("Goodwill gesture", 8)]
