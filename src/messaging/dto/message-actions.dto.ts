import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, Length, Matches, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { isReactionEmoji } from '../../../libs/templates';

export class MessageParamsDto {
  @ApiProperty({ example: '512345678901234' })
  @IsString()
  threadId: string;

  @ApiProperty({ example: 'm_Zm9vYmFy', description: 'The mid of a message of this thread' })
  @Matches(/^m_[A-Za-z0-9_-]{1,86}$/, { message: 'mid must be a message id (m_…)' })
  mid: string;
}

@ValidatorConstraint({ name: 'oneEmoji' })
class OneEmoji implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return isReactionEmoji(value);
  }
  defaultMessage(): string {
    return 'reaction must be one emoji';
  }
}

export class ReactionDto {
  @ApiProperty({ example: '❤️', description: 'One emoji. The message_reactions webhook names it as Messenger does (love, like, …, other)' })
  @IsDefined()
  @Validate(OneEmoji)
  reaction: string;
}

export class ReactionStateDto {
  @ApiProperty() mid: string;
  @ApiProperty({ type: String, nullable: true, description: 'Your reaction to the message now; null when none' })
  reaction: string | null;
}

export class EditMessageDto {
  // As a message's text: fewer than 2000 characters.
  @ApiProperty({ example: 'Do you have these in green?', maxLength: 1999 })
  @IsString()
  @Length(1, 1999)
  @Matches(/\S/, { message: 'text must not be blank' })
  text: string;
}
