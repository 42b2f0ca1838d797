"""The tokenizer parity corpus: hand-written edge cases plus generated SD-style prompts.

Deterministic (fixed seed), so the committed prompts.json is reproducible.
"""

import random

EDGE_CASES = [
    "a photo of a cat",
    "A Photo Of A CAT",
    "",
    " ",
    "   leading and trailing spaces   ",
    "multiple     spaces    between   words",
    "tabs\tand\ttabs",
    "a line\nbreak and\r\nwindows line break",
    "\n\nnewlines only around\n\n",
    "don't stop",
    "it's a dog's life",
    "they're here, we've seen, I'm sure, you'll see, he'd go",
    "DON'T SHOUT, IT'S LOUD",
    "rock 'n' roll",
    "o'clock and y'all",
    "a “smart quoted” phrase and ‘single’ ones",
    "em—dash and en–dash and minus − sign",
    "ellipsis... and unicode ellipsis…",
    "!!!???!!!",
    "hello, world! how are you? fine; thanks: ok.",
    "(parentheses) [brackets] {braces} <angles>",
    "(masterpiece:1.2), (best quality:1.4), ((ultra detailed))",
    "email@example.com and https://example.org/path?q=1&r=2#frag",
    "#hashtag @mention $100 %50 ^caret &amp; *star* _under_ ~tilde~ `tick`",
    "100 dogs",
    "1920s fashion photo",
    "3.14159 and 2,718,281 and 1e-5",
    "1,000,000 stars in 4k 8k 16k uhd",
    "year 2024, 12:30pm, 25°C",
    "0123456789",
    "café crème brûlée",
    "naïve façade, résumé, jalapeño, Zürich, Ångström",
    "cafe\u0301 with a combining accent",
    "Straße in München",
    "東京の夜景、ネオンサイン",
    "一只可爱的猫坐在窗台上",
    "한국의 전통 가옥",
    "кот на крыше, акварель",
    "Ελληνικός ναός στο ηλιοβασίλεμα",
    "قطة جميلة في الحديقة",
    "שלום עולם",
    "एक सुंदर बिल्ली",
    "ภาพวาดแมว",
    "a cat 🐱 with a hat 🎩 and a rainbow 🌈",
    "👨‍👩‍👧‍👦 family emoji with zero width joiners",
    "flag 🇫🇷 and skin tone 👍🏽",
    "ﬁne ligature ﬂower",
    "full-width ＡＢＣ１２３",
    "zero\u200bwidth\u200bspace",
    "non\u00a0breaking\u00a0space",
    "math ∑ ∫ √ ∞ ≈ ≠ ± × ÷",
    "arrows → ← ↑ ↓ and stars ★ ☆",
    "currency € £ ¥ ₹ ₿",
    "© ® ™ § ¶ † ‡",
    "a<|endoftext|>b",
    "<|startoftext|>already has a start token",
    "snake_case and kebab-case and CamelCase and SCREAMING_CASE",
    "a/b\\c|d",
    "x" * 100,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "trending on artstation, octane render, unreal engine 5, 8k, hdr",
    "by greg rutkowski and alphonse mucha",
    "in the style of Van Gogh",
    "Vincent van Gogh's The Starry Night",
    "nude, naked, nsfw",
    "a pig in a field",
    "a cow in a field",
    "desktop computer on a wooden desk",
    "laptop on a wooden desk",
    "dry brushing painting of a landscape",
]

LONG_PROMPTS = [
    "a highly detailed digital painting of an ancient castle on a cliff above a stormy sea, dramatic lighting, "
    "volumetric clouds, lightning in the distance, waves crashing against the rocks, seagulls flying, a lone "
    "lighthouse with a warm glow, intricate stonework, moss and ivy on the walls, banners fluttering in the wind, "
    "cinematic composition, wide angle, golden hour, by a famous fantasy illustrator, trending on artstation, "
    "masterpiece, best quality, ultra detailed, 8k resolution",
    ", ".join(["beautiful"] * 90),
    " ".join(str(i) for i in range(120)),
    "🐱" * 80,
    "a very long prompt about a garden. " * 12,
    "東京の夜景、ネオンサイン、雨の夜、反射する路面、" * 6,
    "(masterpiece:1.2), (best quality:1.3), (ultra-detailed:1.1), " * 8,
    "don't ever stop, it's the end, we'll see! " * 10,
]

SUBJECTS = [
    "a cat", "a dog", "an astronaut", "a castle", "a robot", "a tree", "a pig", "a cow", "a horse riding a bike",
    "a bowl of fruit", "a city skyline", "an old man", "a young woman", "a mountain lake", "a red sports car",
    "a cup of coffee", "a lighthouse", "a dragon", "two children", "a ship at sea", "the Eiffel Tower",
]
STYLES = [
    "oil painting", "watercolor", "photo", "3D render", "pixel art", "pencil sketch", "anime style",
    "in the style of Van Gogh", "by Claude Monet", "cyberpunk", "Ukiyo-e woodblock print", "studio lighting",
    "film grain, 35mm", "low poly", "isometric", "charcoal drawing", "stained glass", "vaporwave",
]
MODIFIERS = [
    "highly detailed", "8k", "trending on ArtStation", "soft light", "at sunset", "in the rain", "on the moon",
    "wide angle", "close-up", "bokeh", "HDR", "sharp focus", "4K UHD", "f/1.8", "50mm", "volumetric fog",
    "(best quality:1.2)", "isn't it?", "wow!!", "—minimalist—", "#art", "café vibe", "🌙", "x2", "no. 5",
]


def corpus():
    rng = random.Random(20241128)
    prompts = list(EDGE_CASES) + list(LONG_PROMPTS)
    while len(prompts) < 240:
        mods = rng.sample(MODIFIERS, rng.randint(0, 4))
        parts = [rng.choice(SUBJECTS), rng.choice(STYLES)] + mods
        sep = rng.choice([", ", ", ", " ", ",", " | "])
        text = sep.join(parts)
        if rng.random() < 0.15:
            text = text.upper()
        prompts.append(text)
    return prompts
