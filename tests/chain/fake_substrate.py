"""A stateful in-memory fake of bittensor 11.3.0's `Substrate` protocol (the SDK's chain-access seam).

It answers exactly what `bt.Client` reads for the calls glean makes (bittensor11.md §5.3) and *applies* the writes
it receives (registration, axons, weights, commitments) with the chain's own refusals (not registered, rate limited,
no validator permit, invalid uid), so `BittensorChain` can run the same contract tests as `LocalChain`. It does not
run Yuma: scores are seeded with `set_scores`. Every submitted call is recorded in `calls` for assertions.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import bittensor as bt

U16_MAX = 65535
MLKEM768_PUBLIC_KEY_BYTES = 1184
RAO = 10**9


@dataclass
class FakeNeuron:
    hotkey: str
    coldkey: str
    registered_at: int
    last_update: int
    stake_rao: int = 0
    permit: bool = False
    axon: dict | None = None
    incentive: int = 0  # u16
    dividends: int = 0  # u16
    emission_rao: int = 0
    validator_trust: int = 0  # u16 (SubtensorModule.ValidatorTrust, not in the runtime's metagraph)


@dataclass(frozen=True)
class SubmittedCall:
    module: str
    function: str
    params: dict
    signer: str


@dataclass
class FakeSubstrate:
    netuid: int = 1
    block: int = 100
    tempo: int = 360
    weights_rate_limit: int = 100
    max_validators: int = 64
    activity_cutoff: int = 5000
    seconds_per_block: float = 12.0
    commit_reveal: bool = False
    reveal_period: int = 1
    immunity_period: int = 4096
    token_symbols: dict = field(default_factory=dict)
    neurons: list[FakeNeuron] = field(default_factory=list)
    commitments: dict[str, dict] = field(default_factory=dict)
    commitment_log: list[tuple[int, str, dict]] = field(default_factory=list)  # (block, hotkey, entry), in order
    weights: dict[int, dict[int, int]] = field(default_factory=dict)
    timelocked: dict[int, tuple[bytes, int]] = field(default_factory=dict)
    calls: list[SubmittedCall] = field(default_factory=list)
    connected: bool = False
    closed: bool = False
    reads: list[tuple[str, str]] = field(default_factory=list)
    _signed: dict[str, tuple[Any, str]] = field(default_factory=dict)
    _nonces: dict[str, int] = field(default_factory=dict)
    _failures: list[tuple[str, str]] = field(default_factory=list)

    # --- test levers -------------------------------------------------------------------------------------------

    def advance(self, blocks: int) -> None:
        self.block += blocks

    def add_stake(self, hotkey: str, amount: float) -> None:
        neuron = self._neuron(hotkey)
        assert neuron is not None, f"stake needs a registered hotkey in the fake: {hotkey}"
        neuron.stake_rao += int(amount * RAO)
        self._recompute_permits()

    def set_scores(self, uid: int, *, incentive: float = 0.0, dividends: float = 0.0, emission: float = 0.0,
                   validator_trust: float = 0.0) -> None:
        neuron = self.neurons[uid]
        neuron.incentive = round(incentive * U16_MAX)
        neuron.dividends = round(dividends * U16_MAX)
        neuron.validator_trust = round(validator_trust * U16_MAX)
        neuron.emission_rao = int(emission * RAO)

    def fail_next(self, function: str, error_name: str) -> None:
        """Make the next submitted call of `function` fail on chain with the named runtime error."""
        self._failures.append((function, error_name))

    def uid(self, hotkey: str) -> int | None:
        return next((uid for uid, n in enumerate(self.neurons) if n.hotkey == hotkey), None)

    # --- Substrate: display and lifecycle ---------------------------------------------------------------------

    def balance(self, rao: int, netuid: int = 0) -> bt.Balance:
        return bt.Balance(int(rao), netuid, self.token_symbols.get(netuid) if netuid else None)

    async def connect(self) -> None:
        self.connected = True

    async def close(self) -> None:
        self.closed = True

    # --- Substrate: reads --------------------------------------------------------------------------------------

    async def block_hash(self, block: int | None = None) -> str | None:
        number = self.block if block is None else int(block)
        if number > self.block or number < 0:
            return None
        return "0x" + hashlib.sha256(f"fake:{number}".encode()).hexdigest()

    async def block_number(self) -> int:
        return self.block

    async def finalized_block_number(self) -> int:
        return self.block

    async def block_time(self) -> float:
        return self.seconds_per_block

    async def spec_version(self) -> int:
        return 400

    async def get_block(self, block_number: int | None = None, block_hash: str | None = None) -> dict | None:
        number = self.block if block_number is None else block_number
        return {"header": {"number": number, "hash": await self.block_hash(number)}, "extrinsics": []}

    async def query(self, module: str, storage_function: str, params: list | None = None,
                    block_hash: str | None = None) -> Any:
        self.reads.append((module, storage_function))
        params = list(params or [])
        scalars = {
            "CommitRevealWeightsEnabled": self.commit_reveal,
            "WeightsSetRateLimit": self.weights_rate_limit,
            "MinAllowedWeights": 0,
            "MaxWeightsLimit": U16_MAX,
            "SubnetEpochConsensus": "Yuma",
            "Tempo": self.tempo,
            "Burn": RAO,
            "CollateralLockShare": 0,
            "RevealPeriodEpochs": self.reveal_period,
            "ImmunityPeriod": self.immunity_period,
            "LastEpochBlock": self.block - self.block % self.tempo,
            "PendingEpochAt": 0,
            "SubnetEpochIndex": self.block // self.tempo,
            "BlocksSinceLastStep": self.block % self.tempo,
        }
        if module == "SubtensorModule" and storage_function == "Uids":
            return self.uid(params[1]) if params[0] == self.netuid else None
        if module == "SubtensorModule" and storage_function == "ValidatorTrust":
            return [n.validator_trust for n in self.neurons] if params[0] == self.netuid else []
        if module == "SubtensorModule" and storage_function == "LastUpdate":
            return [n.last_update for n in self.neurons] if params[0] == self.netuid else []
        if module == "SubtensorModule" and storage_function == "ValidatorPermit":
            return [n.permit for n in self.neurons]
        if module == "SubtensorModule" and storage_function in scalars:
            return scalars[storage_function]
        if module == "System" and storage_function == "Account":
            return {"data": {"free": 1000 * RAO, "reserved": 0, "frozen": 0}}
        raise AssertionError(f"the fake does not model storage {module}.{storage_function}{params}")

    async def map_has_entries(self, module: str, storage_function: str, params: list,
                              block_hash: str | None = None) -> bool:
        return bool(await self.query_map(module, storage_function, params, block_hash))

    async def query_map(self, module: str, storage_function: str, params: list | None = None,
                        block_hash: str | None = None) -> list[tuple[Any, Any]]:
        self.reads.append((module, storage_function))
        if (module, storage_function) == ("SubtensorModule", "TokenSymbol"):
            return []
        if (module, storage_function) == ("Commitments", "CommitmentOf"):
            return list(self._commitments_at(block_hash).items())
        if (module, storage_function) == ("Commitments", "RevealedCommitments"):
            return []
        if (module, storage_function) == ("SubtensorModule", "Uids"):
            return [(n.hotkey, uid) for uid, n in enumerate(self.neurons)]
        raise AssertionError(f"the fake does not model the map {module}.{storage_function}")

    async def query_batch(self, module: str, storage_function: str, param_sets: list[list],
                          block_hash: str | None = None) -> list[Any]:
        return [await self.query(module, storage_function, p, block_hash) for p in param_sets]

    async def runtime_call(self, api: str, method: str, params: list, block_hash: str | None = None) -> Any:
        self.reads.append((api, method))
        if (api, method) == ("SubnetInfoRuntimeApi", "get_metagraph"):
            return self._metagraph() if params[0] == self.netuid else None
        raise AssertionError(f"the fake does not model the runtime call {api}.{method}")

    async def constant(self, module: str, name: str) -> Any:
        if (module, name) == ("Aura", "SlotDuration"):
            return int(self.seconds_per_block * 1000)
        raise AssertionError(f"the fake does not model the constant {module}.{name}")

    async def decode_scale(self, type_string: str, data: Any) -> Any:
        raise NotImplementedError("the fake has no runtime metadata")

    async def blocks(self, *, finalized: bool = False) -> AsyncIterator[dict]:
        yield {"header": {"number": self.block, "parentHash": await self.block_hash(self.block - 1)}}

    async def events(self, block_hash: str | None = None) -> list[dict]:
        return []

    # --- Substrate: calls and fees -----------------------------------------------------------------------------

    async def compose(self, call: Any) -> Any:
        return call  # a generated bt.calls NamedTuple (module, function, params): trivially inspectable

    async def estimate_fee(self, call: Any, keypair: Any) -> bt.Balance:
        return bt.Balance.from_rao(1000)

    async def estimate_weight(self, call: Any, keypair: Any) -> dict:
        return {"ref_time": 1_000_000, "proof_size": 1000}

    async def account_next_index(self, address: str) -> int:
        return self._nonces.get(address, 0)

    # --- Substrate: writes -------------------------------------------------------------------------------------

    async def mev_next_key(self) -> bytes:
        return bytes(MLKEM768_PUBLIC_KEY_BYTES)  # a well-formed ML-KEM-768 key; the fake "decrypts" by memory

    async def sign_extrinsic(self, call: Any, keypair: Any, *, nonce: int, period: int) -> tuple[bytes, str]:
        payload = repr((tuple(call), keypair.ss58_address, nonce)).encode()
        digest = "0x" + hashlib.sha256(payload).hexdigest()
        self._signed[digest] = (call, keypair.ss58_address)
        return payload, digest

    async def find_extrinsic(self, extrinsic_hash: str, block_hash: str) -> bt.ExtrinsicResult | None:
        signed = self._signed.pop(extrinsic_hash, None)
        if signed is None:
            return None
        call, signer = signed
        return self._apply(call, signer)

    async def submit(self, call: Any, keypair: Any, *, nonce: int | None = None, period: int | None = None,
                     wait_for_inclusion: bool = True, wait_for_finalization: bool = True) -> bt.ExtrinsicResult:
        signer = keypair.ss58_address
        self._nonces[signer] = self._nonces.get(signer, 0) + 1
        if call.module == "MevShield" and call.function == "submit_encrypted":
            self.calls.append(SubmittedCall(call.module, call.function, {"ciphertext": "…"}, signer))
            return self._success()
        return self._apply(call, signer)

    async def prepare(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the fake does not model out-of-process signing")

    async def submit_signature(self, *args: Any, **kwargs: Any) -> bt.ExtrinsicResult:
        raise NotImplementedError("the fake does not model out-of-process signing")

    async def submit_signed(self, *args: Any, **kwargs: Any) -> bt.ExtrinsicResult:
        raise NotImplementedError("the fake does not model pre-signed extrinsics")

    def multisig_account(self, signatories: list[str], threshold: int) -> Any:
        raise NotImplementedError("the fake does not model multisig")

    async def submit_multisig(self, *args: Any, **kwargs: Any) -> bt.ExtrinsicResult:
        raise NotImplementedError("the fake does not model multisig")

    # --- the chain's behaviour ---------------------------------------------------------------------------------

    def _apply(self, call: Any, signer: str) -> bt.ExtrinsicResult:
        module, function, params = call
        self.calls.append(SubmittedCall(module, function, dict(params), signer))
        injected = next((f for f in self._failures if f[0] == function), None)
        if injected:
            self._failures.remove(injected)
            return self._failure(injected[1])
        handler = {
            ("SubtensorModule", "burned_register"): self._burned_register,
            ("SubtensorModule", "serve_axon"): self._serve_axon,
            ("SubtensorModule", "set_mechanism_weights"): self._set_weights,
            ("SubtensorModule", "commit_timelocked_mechanism_weights"): self._commit_weights,
            ("Commitments", "set_commitment"): self._set_commitment,
        }.get((module, function))
        if handler is None:
            raise AssertionError(f"the fake does not model the call {module}.{function}")
        error = handler(params, signer)
        return self._failure(error) if error else self._success()

    def _burned_register(self, params: dict, coldkey: str) -> str | None:
        if params["netuid"] != self.netuid:
            return "SubnetNotExists"
        if self.uid(params["hotkey"]) is not None:
            return "HotKeyAlreadyRegisteredInSubNet"
        self.neurons.append(FakeNeuron(hotkey=params["hotkey"], coldkey=coldkey, registered_at=self.block,
                                       last_update=self.block))
        self._recompute_permits()
        return None

    def _serve_axon(self, params: dict, hotkey: str) -> str | None:
        neuron = self._neuron(hotkey)
        if neuron is None:
            return "HotKeyNotRegisteredInNetwork"
        neuron.axon = {"ip": params["ip"], "port": params["port"], "ip_type": params["ip_type"],
                       "protocol": params["protocol"], "version": params["version"]}
        return None

    def _set_weights(self, params: dict, hotkey: str) -> str | None:
        uid = self.uid(hotkey)
        if uid is None:
            return "HotKeyNotRegisteredInSubNet"
        neuron = self.neurons[uid]
        if neuron.last_update > 0 and self.block - neuron.last_update < self.weights_rate_limit:
            return "SettingWeightsTooFast"
        dests, values = list(params["dests"]), list(params["weights"])
        if any(not 0 <= dest < len(self.neurons) for dest in dests):
            return "UidVecContainInvalidOne"
        if not neuron.permit and dests != [uid]:
            return "NeuronNoValidatorPermit"
        top = max(values)
        self.weights[uid] = {d: round(v / top * U16_MAX) for d, v in zip(dests, values, strict=True)}
        neuron.last_update = self.block
        return None

    def _commit_weights(self, params: dict, hotkey: str) -> str | None:
        uid = self.uid(hotkey)
        if uid is None:
            return "HotKeyNotRegisteredInSubNet"
        neuron = self.neurons[uid]
        if neuron.last_update > 0 and self.block - neuron.last_update < self.weights_rate_limit:
            return "CommittingWeightsTooFast"
        self.timelocked[uid] = (bytes(params["commit"]), int(params["reveal_round"]))  # the chain reveals later
        neuron.last_update = self.block
        return None

    def _set_commitment(self, params: dict, hotkey: str) -> str | None:
        if params["netuid"] != self.netuid or self._neuron(hotkey) is None:
            return "AccountNotAllowedCommit"
        fields = [entry for group in params["info"]["fields"] for entry in group]
        decoded = [{variant: "0x" + bytes(payload).hex() for variant, payload in entry.items()} for entry in fields]
        self.commitments[hotkey] = {"block": self.block, "deposit": 0, "info": {"fields": decoded}}
        self.commitment_log.append((self.block, hotkey, self.commitments[hotkey]))
        return None

    def _commitments_at(self, block_hash: str | None) -> dict[str, dict]:
        """CommitmentOf as stored at the block of `block_hash` (None: now); stakes and axons are not historical."""
        if block_hash is None:
            return dict(self.commitments)
        number = next(n for n in range(self.block + 1) if block_hash == "0x" + hashlib.sha256(
            f"fake:{n}".encode()).hexdigest())
        return {hotkey: entry for block, hotkey, entry in self.commitment_log if block <= number}

    def _neuron(self, hotkey: str) -> FakeNeuron | None:
        uid = self.uid(hotkey)
        return None if uid is None else self.neurons[uid]

    def _recompute_permits(self) -> None:
        ranked = sorted((uid for uid, n in enumerate(self.neurons) if n.stake_rao > 0),
                        key=lambda uid: (-self.neurons[uid].stake_rao, uid))[: self.max_validators]
        for uid, neuron in enumerate(self.neurons):
            neuron.permit = uid in ranked

    def _success(self) -> bt.ExtrinsicResult:
        return bt.ExtrinsicResult(success=True, message="Success", block_hash=f"0x{self.block:064x}",
                                  extrinsic_id=f"{self.block}-0001", fee=bt.Balance.from_rao(1000))

    def _failure(self, name: str) -> bt.ExtrinsicResult:
        return bt.ExtrinsicResult(success=False, message=name, block_hash=f"0x{self.block:064x}",
                                  extrinsic_id=f"{self.block}-0001", error=bt.ChainError(name, name))

    def _metagraph(self) -> dict:
        neurons = self.neurons
        return {
            "netuid": self.netuid, "name": list(b"glean"), "symbol": list("γ".encode()), "block": self.block,
            "tempo": self.tempo, "last_step": self.block - self.block % self.tempo,
            "blocks_since_last_step": self.block % self.tempo, "owner_hotkey": "", "owner_coldkey": "",
            "network_registered_at": 0, "num_uids": len(neurons), "max_uids": 256,
            "hotkeys": [n.hotkey for n in neurons], "coldkeys": [n.coldkey for n in neurons],
            "active": [n.last_update + self.activity_cutoff >= self.block for n in neurons],
            "validator_permit": [n.permit for n in neurons],
            "last_update": [n.last_update for n in neurons],
            "block_at_registration": [n.registered_at for n in neurons],
            "axons": [n.axon or {"ip": 0, "port": 0, "ip_type": 4} for n in neurons],
            "alpha_stake": [n.stake_rao for n in neurons], "tao_stake": [0 for _ in neurons],
            "total_stake": [n.stake_rao for n in neurons],
            "incentives": [n.incentive for n in neurons], "dividends": [n.dividends for n in neurons],
            "consensus": [0 for _ in neurons], "pruning_score": [0 for _ in neurons],
            "emission": [n.emission_rao for n in neurons], "identities": [None for _ in neurons],
        }
