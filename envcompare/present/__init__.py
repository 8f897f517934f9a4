"""Presentation (layer 5): what people read: charts (matplotlib), the Excel workbook (excel),
evidence pages, sentences written from the tables (narrate), CJK fonts, and safe file writing
(output: atomic writes and formula guards; export: a table by its file extension).

Nothing is imported here: matplotlib and openpyxl load with the module that needs them
(`from envcompare.present import charts`).
"""
