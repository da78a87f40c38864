//! A zero-copy view of the validator registry inside a beacon state's SSZ bytes.
//!
//! The tracker must find, at start and on every rescan, the validators whose withdrawal
//! credentials point at the operator's pods among the whole registry (1.1M validators on
//! mainnet). [`BeaconState::from_ssz_bytes`](super::BeaconState::from_ssz_bytes) would copy
//! every field of a state of a few hundred MB into owned containers: seconds of CPU, and the
//! decoded state roughly doubles the memory the bytes already take. All the tracker reads are
//! the validator records and the balances, which sit in the SSZ bytes as fixed-size items, so
//! [`RegistryView`] reads them where they lie: no decoding of the rest, no copies, no
//! allocation proportional to the state.
//!
//! The view still validates the whole container as strictly as the full decoder does: the
//! layout of the fixed part comes from the fork's container definition (each field's
//! `ssz_fixed_len`, see `spec::beacon_state!`), every offset is checked (the first right after
//! the fixed part, increasing, in bounds), every list has a whole number of items within its
//! limit, the small variable-size fields decode, and every validator's `slashed` byte is either
//! 0 or 1. On top of what the decoder checks, the view requires one balance per validator. Any
//! violation is [`Error::SszDecode`] naming the fork and the field; no input makes it panic.

use std::{fmt, ops::Range};

use restake_types::{BlsPublicKey, Epoch, Gwei, Slot, ValidatorIndex, WithdrawalCredentials};
use ssz::{BYTES_PER_LENGTH_OFFSET, Decode};
use ssz_types::{BitVector, FixedVector, VariableList, typenum::Unsigned};

use super::spec::{
    BeaconBlockHeader, BeaconStateDeneb, BeaconStateElectra, BeaconStateFulu, Checkpoint, Eth1Data,
    ExecutionPayloadHeader, Fork, HistoricalSummary, PendingConsolidation, PendingDeposit,
    PendingPartialWithdrawal, SyncCommittee, Validator,
};
use crate::{Error, ForkName};

/// The container named in errors.
const CONTAINER: &str = "BeaconState";

/// The bytes of one SSZ `Validator`: 48 + 32 + 8 + 1 + 4 * 8.
const VALIDATOR_LEN: usize = 121;

/// Where each field of a `Validator` starts in its 121 bytes.
const PUBKEY: usize = 0;
const WITHDRAWAL_CREDENTIALS: usize = 48;
const EFFECTIVE_BALANCE: usize = 80;
const SLASHED: usize = 88;
const ACTIVATION_ELIGIBILITY_EPOCH: usize = 89;
const ACTIVATION_EPOCH: usize = 97;
const EXIT_EPOCH: usize = 105;
const WITHDRAWABLE_EPOCH: usize = 113;

/// A validated beacon state's validator registry and balances, read in place from its SSZ
/// bytes: see the [module documentation](self) for why it exists and what it checks.
///
/// Index `i` of the view is validator index `i`. Creating the view costs one pass over the
/// validators' `slashed` bytes; every accessor afterwards is constant time.
#[derive(Clone, Copy)]
pub struct RegistryView<'a> {
    fork: ForkName,
    slot: Slot,
    validators: &'a [[u8; VALIDATOR_LEN]],
    balances: &'a [[u8; 8]],
}

impl<'a> RegistryView<'a> {
    /// Validates `bytes` as the SSZ encoding of `fork`'s `BeaconState` and locates its slot,
    /// validator registry and balances, without copying them.
    ///
    /// Errors: [`Error::UnsupportedFork`] for forks before Deneb; [`Error::SszDecode`] naming
    /// the offending field for anything the full decoder would refuse, and for a balance list
    /// that is not as long as the registry.
    pub fn from_state_ssz(fork: ForkName, bytes: &'a [u8]) -> Result<Self, Error> {
        let fields = state_fields(fork).ok_or(Error::UnsupportedFork {
            fork,
            container: CONTAINER,
        })?;
        let fail = |reason: String| Error::SszDecode {
            fork,
            container: CONTAINER,
            len: bytes.len(),
            reason,
        };
        let spans = field_spans(&fields, bytes).map_err(fail)?;
        for (field, span) in fields.iter().zip(&spans) {
            let value = bytes
                .get(span.clone())
                .ok_or_else(|| fail(format!("`{}` lies outside the bytes", field.name)))?;
            (field.check)(value).map_err(|reason| fail(format!("`{}`: {reason}", field.name)))?;
        }
        let field = |name: &'static str| {
            fields
                .iter()
                .zip(&spans)
                .find(|(field, _)| field.name == name)
                .and_then(|(_, span)| bytes.get(span.clone()))
                .ok_or_else(|| fail(format!("the container has no field `{name}`")))
        };

        let slot = field("slot")?
            .first_chunk()
            .map(|slot| Slot(u64::from_le_bytes(*slot)))
            .ok_or_else(|| fail("`slot` is not 8 bytes".into()))?;
        let (validators, rest) = field("validators")?.as_chunks();
        if !rest.is_empty() {
            return Err(fail("`validators` is not a whole number of records".into()));
        }
        let (balances, rest) = field("balances")?.as_chunks();
        if !rest.is_empty() {
            return Err(fail("`balances` is not a whole number of u64s".into()));
        }
        if balances.len() != validators.len() {
            return Err(fail(format!(
                "`balances` has {} entries for {} `validators`",
                balances.len(),
                validators.len()
            )));
        }
        Ok(Self {
            fork,
            slot,
            validators,
            balances,
        })
    }

    /// The fork whose container the bytes were read as.
    pub const fn fork(&self) -> ForkName {
        self.fork
    }

    /// The state's slot.
    pub const fn slot(&self) -> Slot {
        self.slot
    }

    /// The number of validators in the registry (and of balances).
    pub const fn len(&self) -> usize {
        self.validators.len()
    }

    /// Whether the registry is empty.
    pub const fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The validator at `index`, if the registry is that long.
    pub fn validator(&self, index: ValidatorIndex) -> Option<ValidatorRecord<'a>> {
        let i = usize::try_from(index.get()).ok()?;
        self.validators.get(i).map(ValidatorRecord)
    }

    /// The actual balance of the validator at `index`, if the registry is that long.
    pub fn balance(&self, index: ValidatorIndex) -> Option<Gwei> {
        let i = usize::try_from(index.get()).ok()?;
        self.balances.get(i).map(|b| Gwei(u64::from_le_bytes(*b)))
    }

    /// Every validator with its index and balance, in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RegistryEntry<'a>> + use<'a> {
        self.validators
            .iter()
            .zip(self.balances)
            .enumerate()
            .map(|(i, (record, balance))| RegistryEntry {
                // usize is at most 64 bits on every target Rust supports.
                index: ValidatorIndex(i as u64),
                validator: ValidatorRecord(record),
                balance: Gwei(u64::from_le_bytes(*balance)),
            })
    }
}

impl fmt::Debug for RegistryView<'_> {
    /// The fork, slot and size only: the registry itself is hundreds of MB on mainnet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryView")
            .field("fork", &self.fork)
            .field("slot", &self.slot)
            .field("validators", &self.validators.len())
            .finish()
    }
}

/// One validator of a [`RegistryView`], with its index and actual balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistryEntry<'a> {
    /// The validator index.
    pub index: ValidatorIndex,
    /// The validator's record.
    pub validator: ValidatorRecord<'a>,
    /// The validator's actual balance (not the effective balance of the record).
    pub balance: Gwei,
}

/// One SSZ `Validator` record (121 bytes) inside a state's bytes; each accessor reads its field
/// in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorRecord<'a>(&'a [u8; VALIDATOR_LEN]);

impl ValidatorRecord<'_> {
    /// The validator's BLS public key.
    pub fn pubkey(&self) -> BlsPublicKey {
        BlsPublicKey::new(self.bytes_at(PUBKEY))
    }

    /// The validator's withdrawal credentials.
    pub fn withdrawal_credentials(&self) -> WithdrawalCredentials {
        WithdrawalCredentials::new(self.bytes_at(WITHDRAWAL_CREDENTIALS))
    }

    /// The effective balance (a multiple of 1 ETH, capped by the credential type).
    pub fn effective_balance(&self) -> Gwei {
        Gwei(self.u64_at(EFFECTIVE_BALANCE))
    }

    /// Whether the validator has been slashed (the view checked the byte is 0 or 1).
    pub const fn slashed(&self) -> bool {
        self.0[SLASHED] == 1
    }

    /// When the validator became eligible for the activation queue (`FAR_FUTURE_EPOCH` if not yet).
    pub fn activation_eligibility_epoch(&self) -> Epoch {
        Epoch(self.u64_at(ACTIVATION_ELIGIBILITY_EPOCH))
    }

    /// When the validator is or was activated (`FAR_FUTURE_EPOCH` if not yet scheduled).
    pub fn activation_epoch(&self) -> Epoch {
        Epoch(self.u64_at(ACTIVATION_EPOCH))
    }

    /// When the validator exits or exited (`FAR_FUTURE_EPOCH` if no exit was initiated).
    pub fn exit_epoch(&self) -> Epoch {
        Epoch(self.u64_at(EXIT_EPOCH))
    }

    /// When the validator's balance becomes withdrawable (`FAR_FUTURE_EPOCH` if not scheduled).
    pub fn withdrawable_epoch(&self) -> Epoch {
        Epoch(self.u64_at(WITHDRAWABLE_EPOCH))
    }

    /// The record as the owned container, as full decoding would have produced it.
    pub fn to_validator(&self) -> Validator {
        Validator {
            pubkey: self.bytes_at(PUBKEY),
            withdrawal_credentials: self.bytes_at(WITHDRAWAL_CREDENTIALS),
            effective_balance: self.u64_at(EFFECTIVE_BALANCE),
            slashed: self.slashed(),
            activation_eligibility_epoch: self.u64_at(ACTIVATION_ELIGIBILITY_EPOCH),
            activation_epoch: self.u64_at(ACTIVATION_EPOCH),
            exit_epoch: self.u64_at(EXIT_EPOCH),
            withdrawable_epoch: self.u64_at(WITHDRAWABLE_EPOCH),
        }
    }

    /// The `N` bytes from `at`; every caller passes a field's start from the constants above,
    /// which end within the record.
    fn bytes_at<const N: usize>(&self, at: usize) -> [u8; N] {
        std::array::from_fn(|k| self.0[at + k])
    }

    /// The little-endian `u64` from `at`.
    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes_at(at))
    }
}

/// One field of a `BeaconState` container, as its SSZ layout needs it: written for each field
/// by the macro that declares the container, from the field's type.
pub(crate) struct StateField {
    /// The field's name in the specification.
    name: &'static str,
    /// Whether the field is variable-size: the fixed part then holds its 4-byte offset.
    variable: bool,
    /// The bytes the field takes in the fixed part: its value, or its offset.
    fixed_len: usize,
    /// Validates the field's bytes as the full decoder would, without copying large content.
    check: fn(&[u8]) -> Result<(), String>,
}

impl StateField {
    /// The layout of a field of type `T`.
    pub(crate) fn of<T: FieldCheck>(name: &'static str) -> Self {
        Self {
            name,
            variable: !T::is_ssz_fixed_len(),
            fixed_len: T::ssz_fixed_len(),
            check: T::check,
        }
    }
}

/// The fields of `fork`'s `BeaconState`, if this crate has the container.
fn state_fields(fork: ForkName) -> Option<Vec<StateField>> {
    match fork {
        ForkName::Deneb => Some(BeaconStateDeneb::ssz_fields()),
        ForkName::Electra => Some(BeaconStateElectra::ssz_fields()),
        ForkName::Fulu => Some(BeaconStateFulu::ssz_fields()),
        ForkName::Phase0 | ForkName::Altair | ForkName::Bellatrix | ForkName::Capella => None,
    }
}

/// Where each field's bytes lie, in field order: fixed-size fields in the fixed-size part,
/// variable-size ones from their offset to the next one's, the last to the end (a
/// `BeaconState` always has variable-size fields, so trailing bytes belong to the last, as
/// for the decoder). The offsets are checked as the SSZ decoder checks them.
fn field_spans(fields: &[StateField], bytes: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let fixed_len: usize = fields.iter().map(|field| field.fixed_len).sum();
    if bytes.len() < fixed_len {
        return Err(format!(
            "{} bytes are fewer than the {fixed_len} of the fixed-size part",
            bytes.len()
        ));
    }
    let mut spans: Vec<Range<usize>> = Vec::with_capacity(fields.len());
    // The index in `spans` of the previous variable-size field, whose end is this one's start.
    let mut previous: Option<usize> = None;
    let mut position = 0;
    for field in fields {
        let end = position + field.fixed_len;
        if !field.variable {
            spans.push(position..end);
            position = end;
            continue;
        }
        let offset = bytes
            .get(position..)
            .and_then(<[u8]>::first_chunk::<BYTES_PER_LENGTH_OFFSET>)
            .map(|b| u32::from_le_bytes(*b))
            .ok_or_else(|| format!("the offset of `{}` is cut off", field.name))?;
        let offset = usize::try_from(offset)
            .map_err(|_| format!("the offset of `{}` ({offset}) overflows", field.name))?;
        match previous.and_then(|i| spans.get_mut(i)) {
            None if offset != fixed_len => {
                return Err(format!(
                    "the offset of `{}` ({offset}) is not the end of the fixed-size part \
                     ({fixed_len})",
                    field.name
                ));
            }
            Some(span) if offset < span.start => {
                return Err(format!(
                    "the offset of `{}` ({offset}) is before the previous field's ({})",
                    field.name, span.start
                ));
            }
            _ if offset > bytes.len() => {
                return Err(format!(
                    "the offset of `{}` ({offset}) is past the end",
                    field.name
                ));
            }
            Some(span) => span.end = offset,
            None => {}
        }
        previous = Some(spans.len());
        spans.push(offset..bytes.len());
        position = end;
    }
    Ok(spans)
}

/// How a field's bytes are validated; implemented for every field type of a `BeaconState`.
pub(crate) trait FieldCheck: Decode {
    /// Checks `bytes` (exactly the field's, as the container's layout delimits them) the way
    /// `from_ssz_bytes` would, without decoding large content.
    fn check(bytes: &[u8]) -> Result<(), String>;
}

/// A fixed-size type of which every byte string of its size is a valid encoding (no `bool`,
/// no bitfield), so the layout alone validates it.
pub(crate) trait AnyBytesValid: Decode + 'static {}

impl AnyBytesValid for u8 {}
impl AnyBytesValid for u64 {}
impl<const N: usize> AnyBytesValid for [u8; N] {}
impl<T: AnyBytesValid, N: Unsigned> AnyBytesValid for FixedVector<T, N> {}
impl AnyBytesValid for Fork {}
impl AnyBytesValid for BeaconBlockHeader {}
impl AnyBytesValid for Eth1Data {}
impl AnyBytesValid for Checkpoint {}
impl AnyBytesValid for SyncCommittee {}
impl AnyBytesValid for HistoricalSummary {}
impl AnyBytesValid for PendingDeposit {}
impl AnyBytesValid for PendingPartialWithdrawal {}
impl AnyBytesValid for PendingConsolidation {}

impl<T: AnyBytesValid> FieldCheck for T {
    fn check(_: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

impl<N: Unsigned + Clone> FieldCheck for BitVector<N> {
    fn check(bytes: &[u8]) -> Result<(), String> {
        Self::from_ssz_bytes(bytes)
            .map(drop)
            .map_err(|e| format!("{e:?}"))
    }
}

impl FieldCheck for ExecutionPayloadHeader {
    /// A few hundred bytes: decoded outright.
    fn check(bytes: &[u8]) -> Result<(), String> {
        Self::from_ssz_bytes(bytes)
            .map(drop)
            .map_err(|e| format!("{e:?}"))
    }
}

impl<T: AnyBytesValid, N: Unsigned> FieldCheck for VariableList<T, N> {
    fn check(bytes: &[u8]) -> Result<(), String> {
        list_len::<T, N>(bytes).map(drop)
    }
}

impl<N: Unsigned> FieldCheck for VariableList<Validator, N> {
    fn check(bytes: &[u8]) -> Result<(), String> {
        list_len::<Validator, N>(bytes)?;
        let (records, _) = bytes.as_chunks::<VALIDATOR_LEN>();
        match records
            .iter()
            .enumerate()
            .find(|(_, record)| record[SLASHED] > 1)
        {
            Some((i, record)) => Err(format!(
                "validator {i} has slashed byte {:#04x} (must be 0 or 1)",
                record[SLASHED]
            )),
            None => Ok(()),
        }
    }
}

/// The number of items in the bytes of a list of fixed-size `T` with limit `N`: a whole number
/// of items, at most `N`.
fn list_len<T: Decode, N: Unsigned>(bytes: &[u8]) -> Result<usize, String> {
    let item = T::ssz_fixed_len();
    if bytes.len().checked_rem(item) != Some(0) {
        return Err(format!(
            "{} bytes are not a whole number of {item}-byte items",
            bytes.len()
        ));
    }
    let count = bytes.len() / item;
    // usize is at most 64 bits on every target Rust supports.
    if count as u64 > N::to_u64() {
        return Err(format!("{count} items exceed the limit of {}", N::to_u64()));
    }
    Ok(count)
}

#[cfg(test)]
mod tests;
