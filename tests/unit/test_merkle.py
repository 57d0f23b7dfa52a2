"""The ledger's Merkle tree against RFC 6962's reference vectors (the Certificate Transparency
test data every implementation is checked with), and proofs that verify only when true."""

from __future__ import annotations

import hashlib

import pytest

from models.core.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

DATA = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                    "606162636465666768696a6b6c6d6e6f")]
LEAVES = [leaf_hash(d) for d in DATA]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CONSISTENCY = [  # (first size, second size, proof)
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
MANY = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(20)]  # every shape of tree up to 20 leaves


def test_the_tree_heads_are_rfc_6962s():
    assert ROOTS[0] == EMPTY_ROOT
    assert [root(LEAVES[:n]) for n in range(9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_are_the_reference_paths(index, size, path):
    proof = inclusion_proof(index, LEAVES[:size])
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_are_the_reference_proofs(first, second, path):
    proof = consistency_proof(first, LEAVES[:second])
    assert [p.hex() for p in proof] == path
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


def test_every_leaf_of_every_tree_is_proven_and_a_changed_proof_is_not():
    for size in range(1, len(MANY) + 1):
        head = root(MANY[:size])
        for index in range(size):
            proof = inclusion_proof(index, MANY[:size])
            assert verify_inclusion(MANY[index], index, size, proof, head), (index, size)
            if size > 1:  # another leaf does not pass for this one
                assert not verify_inclusion(MANY[(index + 1) % size], index, size, proof, head)
            if proof:
                bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                assert not verify_inclusion(MANY[index], index, size, bent, head)
                assert not verify_inclusion(MANY[index], index, size, proof[:-1], head)
            assert not verify_inclusion(MANY[index], index, size, [*proof, EMPTY_ROOT], head)


def test_every_prefix_is_consistent_and_a_rewritten_one_is_not():
    for second in range(len(MANY) + 1):
        new = root(MANY[:second])
        for first in range(second + 1):
            proof = consistency_proof(first, MANY[:second])
            assert verify_consistency(first, second, root(MANY[:first]), new, proof), (first, second)
            if 0 < first < second:
                rewritten = [leaf_hash(b"forged"), *MANY[1:first]]
                assert not verify_consistency(first, second, root(rewritten), new, proof)
                assert not verify_consistency(first, second, root(MANY[:first]), new, proof[:-1])
    assert not verify_consistency(5, 3, root(MANY[:5]), root(MANY[:3]), [])  # a tree that shrank


def test_a_leaf_out_of_range_is_refused():
    with pytest.raises(ValueError):
        inclusion_proof(8, LEAVES)
    assert not verify_inclusion(LEAVES[0], 8, 8, [], ROOTS[8])
