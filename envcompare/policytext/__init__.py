"""Policy text (layer 4): what each report spends its words on: jieba segmentation, themes,
the environmental attention index, distinctive keywords, plan vs summary (module `text`)."""

from .text import DocText, TextStats, analyse, attention, corpus_stats, keywords, plan_vs_summary, theme_shares

__all__ = ["DocText", "TextStats", "analyse", "attention", "corpus_stats", "keywords", "plan_vs_summary", "theme_shares"]
