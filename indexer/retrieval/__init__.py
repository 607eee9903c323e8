"""Answering a question from the live index: dense and keyword search fused per language (`fusion`), filters, the
language prior and reloading the live version (`search`), and measuring it on questions with known answers
(`evaluation`).
"""
