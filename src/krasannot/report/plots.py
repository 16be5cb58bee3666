"""Inline SVG plots for the cohort page: pure functions, tables in, markup out.

Every text that comes from data goes through markupsafe (Markup.format escapes its arguments),
so a sample or gene name can never become markup. No script, no external resource.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from .. import columns as C
from .render import human

PALETTE = ["#1d4f91", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#c46d2e", "#2e4057",
           "#a3a3a3", "#5c9ead"]
WILD_TYPE_COLOUR, NOT_ASSESSED_COLOUR, EMPTY_COLOUR = "#cfd8e3", "#f3f3f3", "#ffffff"
STATUS_COLOURS = {"loss_of_function": "#9b1c1c", "missense": "#edae49", "wild_type": WILD_TYPE_COLOUR,
                  "not_assessed": NOT_ASSESSED_COLOUR}


def _svg(width: int, height: int, title: str, body: list[Markup]) -> Markup:
    head = Markup('<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
                  'role="img"><title>{}</title>').format(width, height, width, height, title)
    return head + Markup("").join(body) + Markup("</svg>")


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> Markup:
    tip_markup = Markup("<title>{}</title>").format(tip) if tip else Markup("")
    return Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" stroke="#fff" '
                  'stroke-width="0.5">{}</rect>').format(x, y, w, h, fill, tip_markup)


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11, weight: str = "normal") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" font-size="{}" font-weight="{}">{}</text>').format(
        x, y, anchor, size, weight, text)


def _legend(items: list[tuple[str, str]], x: float, y: float, width: int) -> tuple[list[Markup], float]:
    """Legend swatches wrapped into rows within `width`; returns the markup and the height used."""
    body, cx, cy = [], x, y
    for label, colour in items:
        step = 18 + 7 * len(label)
        if cx + step > width and cx > x:
            cx, cy = x, cy + 16
        body += [_rect(cx, cy, 11, 11, colour), _text(cx + 15, cy + 10, label)]
        cx += step
    return body, cy - y + 16


def kras_allele_categories(kras_status: pd.Series, top: int = 7) -> pd.Series:
    """Each sample's KRAS category: one of the `top` commonest alleles, other allele, multiple
    alleles, wild-type, not assessed."""
    status = kras_status.fillna("").astype(str).replace("", "not_assessed")
    multiple = status.str.contains(";")
    single = status[~multiple & ~status.isin(["wild_type", "not_assessed"])]
    common = single.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[:top]
    category = status.where(status.isin(list(common) + ["wild_type", "not_assessed"]), "other allele")
    return category.mask(multiple, "multiple alleles").replace({"wild_type": "wild-type",
                                                                  "not_assessed": "not assessed"})


def stacked_bars(counts: pd.DataFrame, title: str, colours: dict[str, str], width: int = 760) -> Markup:
    """Horizontal bars, one per index value, split by column; each segment's count written in it."""
    label_w, bar_w, row_h = 170, width - 170 - 60, 22
    totals = counts.sum(axis=1)
    scale = bar_w / max(int(totals.max()) if len(totals) else 1, 1)
    legend, legend_h = _legend([(str(c), colours[c]) for c in counts.columns], 10, 8, width)
    body, top = list(legend), 8 + legend_h + 6
    for i, (row, values) in enumerate(counts.iterrows()):
        y = top + i * row_h
        body.append(_text(label_w - 6, y + 15, str(row), anchor="end"))
        x = float(label_w)
        for column, n in values.items():
            if n:
                w = n * scale
                body.append(_rect(x, y + 2, w, row_h - 4, colours[column], f"{row}: {column} {int(n)}"))
                if w >= 16:
                    body.append(_text(x + w / 2, y + 15, str(int(n)), anchor="middle", size=10))
                x += w
        body.append(_text(x + 4, y + 15, f"n={int(totals[row])}"))
    return _svg(width, top + max(len(counts), 1) * row_h + 6, title, body)


def kras_allele_plot(samples: pd.DataFrame) -> Markup:
    """KRAS allele distribution per tumour type (samples: tumor_type, kras_status)."""
    category = kras_allele_categories(samples[C.KRAS_STATUS])
    counts = pd.crosstab(samples[C.TUMOR_TYPE].replace("", "unknown"), category)
    fixed = ["other allele", "multiple alleles", "wild-type", "not assessed"]
    alleles = [c for c in counts.columns if c not in fixed]
    alleles = sorted(alleles, key=lambda a: (-int(counts[a].sum()), a))
    order = alleles + [c for c in fixed if c in counts.columns]
    colours = {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(alleles)}
    colours.update({"other allele": "#8d6a9f", "multiple alleles": "#2e4057", "wild-type": WILD_TYPE_COLOUR,
                    "not assessed": NOT_ASSESSED_COLOUR})
    return stacked_bars(counts[order], "KRAS allele distribution per tumour type", colours)


def comutation_matrix(samples: pd.DataFrame, calls: pd.DataFrame, width: int = 1000) -> Markup:
    """Oncoprint-style matrix: rows KRAS, STK11, KEAP1, TP53 and the genes of resistance-tagged calls;
    one column per sample, sorted so that altered samples group together."""
    resistance = calls[calls[C.RESISTANCE].fillna("") != ""]
    genes_tagged = set(resistance[C.GENE].replace("", pd.NA).dropna()) | set(resistance[C.FUSION_5P].replace("", pd.NA).dropna())
    resistance_genes = [f"{gene} resistance" for gene in sorted(genes_tagged)]
    status = pd.DataFrame({"KRAS": samples[C.KRAS_STATUS].fillna("").replace("", "not_assessed").to_numpy(),
                           "STK11": samples[C.STK11_STATUS].to_numpy(), "KEAP1": samples[C.KEAP1_STATUS].to_numpy(),
                           "TP53": samples[C.TP53_STATUS].to_numpy()}, index=samples[C.SAMPLE].to_numpy())
    status = status.fillna("").replace("", "not_assessed")
    for row_name in resistance_genes:
        gene = row_name.removesuffix(" resistance")
        tagged = resistance[(resistance[C.GENE] == gene) | (resistance[C.FUSION_5P] == gene)]
        status[row_name] = status.index.isin(tagged[C.SAMPLE]).astype(int)
    kras_altered = ~status["KRAS"].isin(["wild_type", "not_assessed"])
    sort_keys = pd.DataFrame({"kras": ~kras_altered, "kras_allele": status["KRAS"],
                              **{g: status[g].map({"loss_of_function": 0, "missense": 1}).fillna(2)
                                 for g in ("STK11", "KEAP1", "TP53")}, "sample": status.index})
    order = sort_keys.sort_values(list(sort_keys.columns), kind="stable").index
    status = status.loc[order]
    genes = ["KRAS", "STK11", "KEAP1", "TP53"] + resistance_genes
    label_w, row_h = 150, 18
    cell_w = max(min((width - label_w - 10) / max(len(status), 1), 14.0), 1.5)
    g12c = "G12C"
    legend_items = [("KRAS G12C", PALETTE[1]), ("KRAS other allele", PALETTE[0]), ("loss of function", STATUS_COLOURS["loss_of_function"]),
                    ("missense", STATUS_COLOURS["missense"]), ("resistance alteration", PALETTE[3]),
                    ("wild-type (assayed)", WILD_TYPE_COLOUR), ("not assessed", NOT_ASSESSED_COLOUR)]
    legend, legend_h = _legend(legend_items, 10, 6, width)
    body, top = list(legend), 6 + legend_h + 4
    for r, gene in enumerate(genes):
        y = top + r * row_h
        altered = int(((status[gene] == 1) if gene in resistance_genes else
                       ~status[gene].isin(["wild_type", "not_assessed"])).sum())
        body.append(_text(label_w - 6, y + 13, f"{gene} ({altered})", anchor="end"))
        for c, (sample, value) in enumerate(status[gene].items()):
            if gene == "KRAS":
                colour = (STATUS_COLOURS.get(value) or (PALETTE[1] if g12c in value.split(";") else PALETTE[0]))
            elif gene in resistance_genes:
                colour = PALETTE[3] if value == 1 else EMPTY_COLOUR
                value = "resistance alteration" if value == 1 else "none"
            else:
                colour = STATUS_COLOURS.get(value, PALETTE[5])
            body.append(_rect(label_w + c * cell_w, y + 1, cell_w, row_h - 2, colour, f"{sample} {gene}: {value}"))
    return _svg(max(int(label_w + len(status) * cell_w + 10), width), top + len(genes) * row_h + 4,
                "Co-mutation matrix (one column per sample)", body)


def matches_heatmap(samples: pd.DataFrame, matches: pd.DataFrame, width: int = 760) -> Markup:
    """Samples with at least one match at each level, per tumour type (cells shaded by the share)."""
    levels = list(dict.fromkeys(matches[C.LEVEL])) if len(matches) else []
    tumour_types = sorted(samples[C.TUMOR_TYPE].replace("", "unknown").unique())
    matched = matches.assign(**{C.TUMOR_TYPE: matches[C.TUMOR_TYPE].replace("", "unknown")})
    counts = (matched.drop_duplicates([C.SAMPLE, C.LEVEL]).groupby([C.TUMOR_TYPE, C.LEVEL]).size()
              .unstack(fill_value=0).reindex(index=tumour_types, columns=levels, fill_value=0))
    n_samples = samples[C.TUMOR_TYPE].replace("", "unknown").value_counts()
    label_w, cell_w, row_h, top = 170, max(min((width - 170) / max(len(levels), 1), 110), 60), 24, 44
    body = []
    for c, level in enumerate(levels):
        body.append(_text(label_w + (c + 0.5) * cell_w, top - 8, human(level), anchor="middle", size=10))
    for r, tumour_type in enumerate(tumour_types):
        y = top + r * row_h
        body.append(_text(label_w - 6, y + 16, f"{tumour_type} (n={int(n_samples[tumour_type])})", anchor="end"))
        for c, level in enumerate(levels):
            n = int(counts.loc[tumour_type, level])
            share = n / max(int(n_samples[tumour_type]), 1)
            shade = f"rgba(29,79,145,{0.08 + 0.85 * share:.2f})" if n else EMPTY_COLOUR
            body.append(_rect(label_w + c * cell_w, y, cell_w, row_h, shade, f"{tumour_type}, {human(level)}: {n} samples"))
            body.append(_text(label_w + (c + 0.5) * cell_w, y + 16, str(n), anchor="middle"))
    if not levels:
        body.append(_text(10, top, "no therapy matches in this cohort"))
    return _svg(int(label_w + max(len(levels), 1) * cell_w + 10), top + max(len(tumour_types), 1) * row_h + 6,
                "Samples with therapy matches by level and tumour type", body)


def vaf_histograms(calls: pd.DataFrame, width: int = 760, bins: int = 20) -> Markup:
    """VAF histograms of detected panel variants, one panel per specimen (plasma, tissue, not stated)."""
    vaf = pd.to_numeric(calls[C.VAF], errors="coerce")
    frame = pd.DataFrame({"vaf": vaf, "specimen": calls["specimen"].fillna("").replace("", "not stated")}).dropna()
    frame = frame[(frame["vaf"] >= 0) & (frame["vaf"] <= 1)]
    specimens = [s for s in ("plasma", "tissue", "not stated") if s in set(frame["specimen"])]
    panel_w, panel_h, gap, top = (width - 20) / max(len(specimens), 1) - 10, 150, 10, 20
    body = []
    for p, specimen in enumerate(specimens):
        values = frame.loc[frame["specimen"] == specimen, "vaf"]
        counts = pd.cut(values, bins=[i / bins for i in range(bins + 1)], include_lowest=True).value_counts(sort=False)
        peak = max(int(counts.max()), 1)
        x0 = 10 + p * (panel_w + gap)
        median = float(values.median())
        body.append(_text(x0, top - 6, f"{specimen}: {len(values)} variants, median VAF {100 * median:.1f}%", weight="bold"))
        bar_w = panel_w / bins
        for b, n in enumerate(counts.to_numpy()):
            h = (panel_h - 20) * int(n) / peak
            body.append(_rect(x0 + b * bar_w, top + panel_h - 20 - h, bar_w, h, PALETTE[0 if specimen == "tissue" else 1],
                              f"{specimen} VAF {100 * b / bins:.0f}-{100 * (b + 1) / bins:.0f}%: {int(n)}"))
        for tick in (0, 0.25, 0.5, 0.75, 1.0):
            body.append(_text(x0 + tick * panel_w, top + panel_h - 6, f"{int(tick * 100)}%", anchor="middle", size=9))
    if not specimens:
        body.append(_text(10, top + 10, "no variant with a VAF in this cohort"))
    return _svg(width, top + panel_h, "VAF distribution, plasma versus tissue", body)
