"""Framework-free data code: corpus reading, sentence splitting, pretraining instances, masking and shards."""

from albertlite.data.corpus import read_documents
from albertlite.data.masking import MaskedSequence, NgramMasker, is_word_start_piece, word_start_table
from albertlite.data.pretraining import PretrainingInstance, create_pretraining_instances
from albertlite.data.sentences import split_sentences
from albertlite.data.shard_builder import write_pretraining_shards
from albertlite.data.shards import PretrainingShards, collate_pretraining_batch, read_manifest

__all__ = [
    "MaskedSequence",
    "NgramMasker",
    "PretrainingInstance",
    "PretrainingShards",
    "collate_pretraining_batch",
    "create_pretraining_instances",
    "is_word_start_piece",
    "read_documents",
    "read_manifest",
    "split_sentences",
    "word_start_table",
    "write_pretraining_shards",
]
