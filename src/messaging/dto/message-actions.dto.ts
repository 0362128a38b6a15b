import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
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

export class FeedbackAnswerDto {
  @ApiProperty({ example: 'hauydmns8', description: "The question's id in the template" })
  @IsString()
  @Length(1, 80)
  question_id: string;

  @ApiProperty({ example: 4, description: 'A whole number on the question\'s scale: CSAT 1–5, NPS 0–10, CES 1–7' })
  @IsInt()
  score: number;

  @ApiPropertyOptional({
    example: 'Quick and friendly',
    maxLength: 400,
    nullable: true,
    description: 'Only for a question with a free-form follow_up; null or empty: none',
  })
  // null is no text, as if left out: the handler then never sees a follow_up that is neither absent nor a string.
  @Transform(({ value }) => (value === null ? undefined : value))
  @IsOptional()
  @IsString()
  @MaxLength(400)
  follow_up?: string;
}

export class SubmitFeedbackDto {
  @ApiProperty({ type: [FeedbackAnswerDto], description: 'One answer to each question of the template' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  // ValidateNested passes an array where an object belongs: each answer must be one.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => FeedbackAnswerDto)
  answers: FeedbackAnswerDto[];
}

export class ResponseFeedbackDto {
  @ApiProperty({ enum: ['good', 'bad'], description: 'Thumbs up (good) or down (bad); the app gets "Good response" or "Bad response"' })
  @IsIn(['good', 'bad'])
  feedback: 'good' | 'bad';
}

export class ResponseFeedbackStateDto {
  @ApiProperty() mid: string;
  @ApiProperty({ enum: ['good', 'bad'] }) feedback: 'good' | 'bad';
}
